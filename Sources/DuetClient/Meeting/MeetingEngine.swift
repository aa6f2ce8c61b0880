import DuetMedia
import DuetWire
import Foundation

/// One device's side of meetings (docs/meetings.md): create one (and host it) or knock
/// with a link, then one DTLS-SRTP leg to the server carrying this device's voice as plain
/// Opus in SRTP — cloud-encrypted: the server decrypts, forwards, and may record. Each other
/// participant's audio (told apart by the SSRC the meeting lists) gets its own listener, so
/// the engine can say whom it hears. Video (docs/video.md "Meetings"): each participant's
/// camera, if on, as plain VP8 on their SSRC plus one, received from everyone who sends it and
/// reported once a second. The host also hears knocks and admits or denies.
public actor MeetingEngine: MediaPumpDriver {
    /// A new stream of everything the engine reports from now on, one per subscriber; take it
    /// before acting, or miss events.
    public nonisolated var events: AsyncStream<MeetingEngineEvent> { eventSink.subscribe() }
    let eventSink = EventSubscribers<MeetingEngineEvent>()
    let session: DeviceSession
    /// One certificate per engine; its fingerprint goes with each create or join.
    private let certificate: DTLSCertificate

    private struct Active {
        let link: MeetingLink
        /// The name given when creating or joining, for knocking again after a break.
        let name: String?
        let ssrc: UInt32
        let socket: MediaSocket
        /// The leg to the server and the pump behind it, once inside.
        var media: SFUMedia?
        let started = ContinuousClock.now
        var historyID = "meeting-\(UUID().uuidString.lowercased())"  // its record in the history; a rejoin keeps it
    }

    /// The sockets and the leg of the meeting in progress; its phase is `machine`'s.
    private var active: Active?
    private var machine = MeetingStateMachine()
    /// What this engine holds of the device's `Conversation`, while in (or entering) a meeting.
    private var claim: Conversation?
    /// The machine asked to knock again after a break: done once the news that asked for it is
    /// handled, before any later news (which would otherwise meet a half-rejoined meeting).
    private var knockPending = false
    private var hearing: [String: MeetingHearing] = [:]
    private var muted = false
    private var follower: Task<Void, Never>?

    /// This device's camera in meetings (nil: off; others' video is received either way).
    private let video: VideoSettings?
    /// The pictures go to a screen (`MeetingEngineEvent.pictures`): the terminal UI's tiles.
    private let showsPictures: Bool

    public init(session: DeviceSession, video: VideoSettings? = nil, showsPictures: Bool = false) throws {
        self.session = session
        self.video = video
        self.showsPictures = showsPictures
        certificate = try DTLSCertificate()
    }

    /// Turns this device's camera off or on in the meeting; the others show "camera off".
    /// False when there is no meeting or no camera.
    @discardableResult
    public func setCamera(on: Bool) -> Bool {
        active?.media?.pump.video?.setCamera(on: on, now: .now) ?? false
    }

    /// Whether this device's camera is sending now (nil: no camera in this meeting).
    public var cameraOn: Bool? {
        guard let video = active?.media?.pump.video, video.sender != nil else { return nil }
        return video.cameraOn
    }

    /// Makes a meeting on the session's server, hosted by this device, and enters it.
    public func create(open: Bool, record: Bool, name: String?) async throws -> MeetingLink {
        try await claimed { try await createClaimed(open: open, record: record, name: name) }
    }

    private func createClaimed(open: Bool, record: Bool, name: String?) async throws -> MeetingLink {
        let ssrc = UInt32.random(in: 1...UInt32.max)
        let socket = try await MediaSocket.bind()
        let meeting: Signaling.Meeting
        do {
            meeting = try await session.connection.createMeeting(
                open: open, record: record, name: name, dtlsFingerprint: certificate.fingerprint, ssrc: ssrc)
        } catch {
            socket.close()
            throw error
        }
        let link = MeetingLink(server: session.server, code: meeting.code, certificate: await session.connection.serverFingerprint)
        let entered = Active(link: link, name: name, ssrc: ssrc, socket: socket)
        active = entered
        recordHistory { $0.began(CallRecord(kind: .meeting, direction: .outgoing, peer: link.code, callID: entered.historyID)) }
        machine = MeetingStateMachine()
        eventSink.yield(.created(link))
        try perform(machine.handle(.entered(meeting)))
        return link
    }

    /// Knocks with `link` (the session must be connected to the link's server); a guest gives a name.
    @discardableResult
    public func join(_ link: MeetingLink, name: String?) async throws -> MeetingEntry {
        try await claimed { try await joinClaimed(link, name: name) }
    }

    private func joinClaimed(_ link: MeetingLink, name: String?) async throws -> MeetingEntry {
        let ssrc = UInt32.random(in: 1...UInt32.max)
        let socket = try await MediaSocket.bind()
        let entry: MeetingEntry
        do {
            entry = try await session.connection.joinMeeting(
                code: link.code, name: name, dtlsFingerprint: certificate.fingerprint, ssrc: ssrc)
        } catch {
            socket.close()
            throw error
        }
        let entered = Active(link: link, name: name, ssrc: ssrc, socket: socket)
        active = entered
        recordHistory { $0.began(CallRecord(kind: .meeting, direction: .incoming, peer: link.code, callID: entered.historyID)) }
        machine = MeetingStateMachine()
        try perform(machine.handle(entry.event))
        return entry
    }

    /// The host lets `participant` in, or not.
    public func admit(_ participant: String, _ admit: Bool) async throws {
        guard let code = active?.link.code else { throw MeetingError.notInMeeting }
        let meeting = try await session.connection.admitToMeeting(code: code, participant: participant, admit: admit)
        try? perform(machine.handle(.changed(meeting)))
    }

    /// Starts or stops the server's recording (any participant may; everyone sees REC).
    public func record(_ on: Bool) async throws {
        guard let code = active?.link.code else { throw MeetingError.notInMeeting }
        let meeting = try await session.connection.recordMeeting(code: code, on: on)
        try? perform(machine.handle(.changed(meeting)))
    }

    /// Mutes or unmutes this device's voice (silence is still sent, so the leg stays up).
    public func setMuted(_ muted: Bool) {
        self.muted = muted
        active?.media?.pump.muted = muted
    }

    /// Leaves (as host: ends the meeting for everyone); the leg's keys are wiped.
    public func leave() async {
        guard let code = active?.link.code else { return }
        let held = claim
        try? await session.connection.leaveMeeting(code: code)
        try? perform(machine.handle(.left))
        // The device is free when `leave` returns (end's own release comes later, and finds it done).
        if let held { await session.release(held) }
    }

    public func close() async {
        await leave()
        follower?.cancel()
        eventSink.finish()
    }

    public func snapshot() -> MeetingSnapshot? {
        guard let active else { return nil }
        let meeting = machine.meeting
        let connected = if case .inside(_, true) = machine.state { true } else { false }
        return MeetingSnapshot(
            code: active.link.code, link: active.link, you: meeting?.you, isHost: meeting.map { $0.host == $0.you } ?? false,
            inside: meeting != nil, meeting: meeting, mediaConnected: connected, hearing: hearing)
    }

    /// Runs `body` with the device claimed for a meeting (`Conversation`); the claim is given
    /// back if the body fails before a meeting began.
    private func claimed<T>(_ body: () async throws -> T) async throws -> T {
        try prepare()
        let token = Conversation.meeting(claim: UUID().uuidString)
        try await session.claim(token)
        claim = token
        do { return try await body() } catch {
            if active == nil {
                claim = nil
                await session.release(token)
            }
            throw error
        }
    }

    private func prepare() throws {
        if let active { throw MeetingError.alreadyInMeeting(active.link.code) }
        guard follower == nil else { return }
        let news = session.meetingNews
        follower = Task { [weak self] in for await item in news { await self?.handle(item) } }
    }

    /// The server's news of this device's meeting, through the machine.
    private func handle(_ news: DeviceSession.MeetingNews) async {
        guard let code = active?.link.code else { return }
        let event: MeetingStateMachine.Event? =
            switch news {
            case .reconnected: .reconnected
            case let .admitted(meeting) where meeting.code == code: .admitted(meeting)
            case let .changed(change) where change.meeting.code == code:
                .changed(change.meeting, joined: change.joined, left: change.left, notice: change.notice)
            case let .closed(closed) where closed.code == code: .closed(reason: closed.reason)
            default: nil
            }
        guard let event else { return }
        do { try perform(machine.handle(event)) } catch { try? perform(machine.handle(.failed("could not start the media leg: \(error)"))) }
        if knockPending {
            knockPending = false
            await rejoin()
        }
    }

    /// Carries out the machine's actions; only opening a leg can fail.
    private func perform(_ actions: [MeetingStateMachine.Action]) throws {
        for action in actions {
            switch action {
            case let .openLeg(meeting): try openLeg(meeting)
            case let .listen(meeting): listen(to: meeting)
            case let .emit(event): eventSink.yield(event)
            case .knockAgain:
                // The dead leg goes now (its keys wiped); the knock follows (`handle`).
                if let current = active { dropMedia(of: current) }
                active?.media = nil
                knockPending = true
            case let .end(ending): end(ending)
            }
        }
    }

    /// In the meeting: the leg to the media port starts.
    private func openLeg(_ meeting: Signaling.Meeting) throws {
        guard var current = active else { return }
        guard let port = meeting.media.flatMap({ try? HostPort(parsing: $0) }),
            let address = ServerAddress.media(port, signaling: session.server),
            let fingerprint = meeting.mediaFingerprint.flatMap(DTLSFingerprint.init)
        else {
            throw MeetingError.noMediaPort
        }
        let leg = try ServerMediaLeg(
            socket: current.socket, media: address, certificate: certificate, serverFingerprint: fingerprint,
            relay: .duetRelay(session, callID: meeting.code))
        let pump = MediaPump(outbound: try OutboundMedia(voice: meeting.you ?? "", ssrc: current.ssrc, options: MediaOptions()))
        pump.muted = muted
        let camera = video.map {
            SyntheticCamera(person: meeting.you ?? "", width: $0.width, height: $0.height, framesPerSecond: $0.framesPerSecond)
        }
        do { pump.video = try VideoMedia(camera: camera, ownAudioSSRC: current.ssrc, sealing: nil) } catch {
            eventSink.yield(.notice(.warning(.media, "video could not start: \(error)")))
        }
        let media = SFUMedia(leg: leg, pump: pump)
        current.media = media
        active = current
        report(media.start(self))
    }

    /// The leg's route was lost (this device moved, the relay's connection closed) or its
    /// handshake finally failed: its successor takes over on a new socket with a new DTLS
    /// handshake, under the same SSRC the meeting lists; the meeting itself is not touched.
    private func rebuildLeg(because reason: String) async {
        guard let media = active?.media, !media.rebuilding else { return }
        media.rebuilding = true
        defer { media.rebuilding = false }
        eventSink.yield(.leg("\(reason) — reconnecting media"))
        let socket: MediaSocket
        do { socket = try await MediaSocket.bind() } catch {
            return eventSink.yield(.notice(.warning(.media, "no socket for a new media leg: \(error)")))
        }
        // Left, or knocked again after losing the server, meanwhile: this successor is moot.
        guard active?.media === media else { return socket.close() }
        let leg: ServerMediaLeg
        do { leg = try media.leg.successor(on: socket) } catch {
            socket.close()
            return eventSink.yield(.notice(.warning(.media, "a new media leg: \(error)")))
        }
        _ = machine.handle(.mediaLost)
        report(media.replaceLeg(with: leg, self))
    }

    /// Every other participant of `meeting` gets a stream, and only they.
    private func listen(to meeting: Signaling.Meeting) {
        guard let current = active, let pump = current.media?.pump else { return }
        for person in meeting.participants where person.id != meeting.you {
            if let ssrc = person.ssrc { pump.video?.expect(audio: ssrc, person: person.id, opening: nil) }
            guard pump.streams[person.id] == nil else { continue }
            if let stream = try? InboundStream(source: person.id, voices: [person.id], startedAt: current.started) {
                pump.addStream(stream)
            }
        }
        for id in Array(pump.streams.keys) where !meeting.participants.contains(where: { $0.id == id }) {
            pump.removeStream(of: id)
            pump.video?.forget(id)
            hearing[id] = nil
        }
    }

    private func report(_ news: [SFUMedia.News]) {
        for item in news {
            switch item {
            case let .connected(route):
                try? perform(machine.handle(.mediaConnected(route: route)))
                if let active { recordHistory { $0.connected(.meeting, active.historyID, path: "server") } }
            case let .failed(reason): eventSink.yield(.notice(.warning(.media, reason)))
            case let .notice(text): eventSink.yield(.leg(text))
            case let .rebuild(reason): Task { await rebuildLeg(because: reason) }
            }
        }
    }

    /// Every 20 ms a frame out and one played per participant; every second a hearing report.
    func pumpTicked(completingSecond: Bool) async -> Bool {
        guard let current = active, let media = current.media else { return false }
        report(media.tick(sends: true, seal: nil))
        if showsPictures, let pictures = media.pump.video?.newGroupPictures() { eventSink.yield(.pictures(pictures)) }
        if completingSecond, let meeting = machine.meeting {
            let reports = media.pump.streams.values.compactMap { stream -> MeetingHearing? in
                guard let person = meeting.participants.first(where: { $0.id == stream.source }) else { return nil }
                let analysis = stream.analysis()
                return MeetingHearing(
                    participant: MeetingPerson(person), heard: analysis.speaker == VoiceSignature(number: person.id), level: analysis.level,
                    received: stream.received)
            }.sorted { $0.participant.name < $1.participant.name }
            hearing = Dictionary(uniqueKeysWithValues: reports.map { ($0.participant.id, $0) })
            eventSink.yield(.hearing(reports))
            if let seen = media.pump.video?.seeing(now: .now), !seen.isEmpty {
                let names = Dictionary(meeting.participants.map { ($0.id, MeetingPerson($0).name) }) { first, _ in first }
                eventSink.yield(
                    .seeing(
                        seen.map {
                            SeeingReport(
                                $0.seen, name: names[$0.person] ?? $0.person, peer: $0.peer, kilobitsPerSecond: $0.kilobitsPerSecond)
                        }))
            }
        }
        return true
    }

    /// DTLS to the leg; SRTP to the stream of the participant whose SSRC it carries.
    func pumpReceived(_ batch: [MediaSocket.Datagram]) async {
        guard let media = active?.media, let meeting = machine.meeting else { return }
        for datagram in batch {
            report(
                media.receive(datagram) { packet in
                    meeting.participants.first { $0.ssrc == packet.ssrc && $0.id != meeting.you }
                        .map { MediaPump.OpenedFrame(source: $0.id, payload: packet.payload) }
                })
        }
    }

    /// Signaling is back after a break, and the server has taken this device out of its
    /// meeting (a restarted one remembers no meeting at all). The dead leg goes, its keys wiped,
    /// and the engine knocks again with the same link on a new socket and SSRC: in an open
    /// meeting it is back at once; at a knock-first one it waits for the host again; a meeting
    /// that is gone answers like a host who does not admit, and the meeting ends saying so.
    private func rejoin() async {
        guard let current = active else { return }
        eventSink.yield(.notice(.warning(.server, "lost the server; knocking at \(current.link.code) again")))
        let ssrc = UInt32.random(in: 1...UInt32.max)
        let socket: MediaSocket
        do { socket = try await MediaSocket.bind() } catch {
            try? perform(machine.handle(.failed("lost the server, and could not open a new media socket: \(error)")))
            return
        }
        // Left (or knocked elsewhere) while the socket was bound: this rejoin is moot.
        guard active?.link == current.link, active?.socket === current.socket, machine.state == .rejoining else {
            socket.close()
            return
        }
        active = Active(link: current.link, name: current.name, ssrc: ssrc, socket: socket, historyID: current.historyID)
        let entry: MeetingEntry
        do {
            entry = try await session.connection.joinMeeting(
                code: current.link.code, name: current.name, dtlsFingerprint: certificate.fingerprint, ssrc: ssrc)
        } catch {
            if active?.socket === socket { try? perform(machine.handle(.failed("lost the server, and could not knock again: \(error)"))) }
            return
        }
        guard active?.socket === socket else { return }
        do { try perform(machine.handle(entry.event)) } catch {
            try? perform(machine.handle(.failed("could not start the media leg: \(error)")))
        }
    }

    /// Out: tasks stop, the leg's SRTP keys are released and the socket closed.
    private func end(_ ending: MeetingEnding) {
        guard let current = active else { return }
        active = nil
        recordHistory { $0.ended(.meeting, current.historyID, ifNeverConnected: ending.outcomeUnconnected) }
        muted = false  // mute is the meeting's: the next one starts unmuted
        dropMedia(of: current)
        if let held = claim {
            claim = nil
            Task { [session] in await session.release(held) }
        }
        eventSink.yield(.keysWiped)
        eventSink.yield(.ended(ending))
    }

    /// The leg's tasks stop, its SRTP keys are released and its socket closed.
    private func dropMedia(of current: Active) {
        current.media?.close()
        current.socket.close()
        hearing = [:]
    }
}
