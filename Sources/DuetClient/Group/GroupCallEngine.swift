import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// One device's side of group calls (docs/group-calls.md): it joins the server's room with a
/// DTLS certificate of its own, runs one DTLS-SRTP leg to the SFU, hands its SFrame sender
/// key to the other members over pairwise channels (`sender-key` call signals) and rotates it
/// when someone leaves, and sends its voice as SFrame ciphertext inside SRTP — so the SFU can
/// route every packet and read none. What it hears of each member is reported per member.
///
/// Two queues, each handled one item at a time: the news queue (sender keys received, room and
/// group changes, in the order the server sent them) and the key queue (this device's rekeys
/// and keys to give). A distribution waiting on the server never holds up the keys others give
/// this device, and two distributions never interleave, so each channel's counters go out in
/// order. A session runs either this or a 1:1 `CallEngine`: both read `session.callSignals`.
public actor GroupCallEngine: MediaPumpDriver {
    /// A new stream of everything the engine reports from now on, one per subscriber (the TUI
    /// and a log can both follow one engine); take it before acting, or miss events.
    public nonisolated var events: AsyncStream<GroupCallEngineEvent> { eventSink.subscribe() }
    let eventSink = EventSubscribers<GroupCallEngineEvent>()
    let session: DeviceSession
    let number: String
    /// One certificate per engine: its fingerprint goes to the server with each start/join.
    let certificate: DTLSCertificate

    /// The keys, channels and leg of the call in progress, if any (its room is `machine`'s).
    struct ActiveCall {
        let callID: String
        /// Changes when the device enters the call and again when it rejoins (`callsEntered`):
        /// key work queued or under way before either is stale and is dropped — a call left and
        /// joined again has the same id, and a rejoin resets every channel and rekeys for all.
        var instance: UInt64
        let ring: SenderKeyRing
        /// The leg to the SFU and the pump behind it; replaced when the device rejoins after
        /// losing the server (`rejoin()`).
        var media: SFUMedia
        var ssrcOwners: [UInt32: String] = [:]
        /// Pairwise channels out of this device, and whether the recipient has opened each.
        var senders: [String: PairwiseSender] = [:]
        var opened: Set<String> = []
        var receivers: [String: PairwiseReceiver] = [:]
        /// The ephemeral keys of every channel accepted in this call: a header is accepted once,
        /// or a replayed first message would reset its channel (and with no one-time prekey in
        /// it, nothing else would stop it).
        var acceptedChannels: Set<Data> = []
        /// The epoch of the last key each member was sent.
        var delivered: [String: UInt16] = [:]
        /// The members whose vouches verified, for the group as last checked (`admittedKeys`).
        var admitted: (group: GroupInfo, keys: [String: IdentityPublicKey])?
        /// Members this device warned it keeps its key from (once per call each).
        var withheld: Set<String> = []
        /// How often what this device held of each member was dropped (`forget`): `distribute`
        /// compares these across its waits on the server.
        var channelResets: [String: Int] = [:]
        let started = ContinuousClock.now
        /// Test hooks: SRTP payloads (SFrame ciphertext) as they arrived, by member, copies of
        /// the sender keys this device was given, and the signals that carried them (only while
        /// `capturePayloads` is on).
        var captured: [String: [[UInt8]]] = [:]
        var retainedKeys: [String: [SenderKeyAnnouncement]] = [:]
        var receivedSignals: [CallSignal] = []

        /// Changes whenever what is held of `member` is dropped.
        func channelGeneration(of member: String) -> Int {
            channelResets[member, default: 0]
        }
    }

    /// The key queue's work (`distribute` runs only there), for the call `instance` it was
    /// queued in.
    enum KeyWork: Sendable {
        case rekey(RekeyCause, to: [String], instance: UInt64)
        /// The current key to a member who has not got it.
        case giveKey(String, instance: UInt64)
    }

    var call: ActiveCall?
    /// Calls entered and rejoined so far (`ActiveCall.instance`).
    var callsEntered: UInt64 = 0
    /// The room: entering, in it, or not (`GroupCallStateMachine`).
    var machine: GroupCallStateMachine
    var room: GroupCallStateMachine.Room? { machine.room }
    /// Sender keys that arrived for a call this device has not joined yet (it was rung).
    var early: [CallSignal] = []
    /// Calls this device was rung for and has not joined, by call id.
    var rung: [String: GroupCallInfo] = [:]
    var hearing: [String: GroupCallHearing] = [:]
    var capturePayloads = false
    /// Sends silence instead of the voice, in this call and any leg it rejoins on (the next
    /// call starts unmuted).
    var muted = false
    /// Test hook: what the leg's socket receives is lost and delayed as this says.
    var impairment: NetworkImpairment?
    var newsSink: AsyncStream<DeviceSession.GroupCallNews>.Continuation?
    var keySink: AsyncStream<KeyWork>.Continuation?
    private var loops: [Task<Void, Never>] = []

    /// How a device takes part in group calls. The defaults are every device's; the load
    /// bench changes them to fit dozens of members in one process on two cores.
    public struct Options: Sendable {
        /// The Opus encoder's complexity (0–10).
        public var opusComplexity = 10
        /// Live by default; the load bench's devices replay their voice encoded once (see `VoiceEncoder`).
        public var voiceEncoding = VoiceEncoder.Mode.live
        /// Whose audio is decoded and analysed; nil: every member's. Frames from the others
        /// are still opened (SFrame authenticates them) and counted, not played.
        public var decoded: Set<String>?
        /// False: send only — once the leg is up its socket is no longer read, so the SFU's
        /// frames stay in (and overflow) the kernel's buffer (a load generator's talkers;
        /// nobody would want this on a phone).
        public var receivesAudio = true
        /// This device's camera in the call (`--video`); every member's video is shown either way.
        public var video: VideoSettings?
        /// The pictures go to a screen (`GroupCallEngineEvent.pictures`): the terminal UI's tiles.
        public var showsPictures = false

        public init() {}
    }

    let options: Options

    public init(session: DeviceSession, options: Options = Options()) throws {
        guard let number = try session.store.account().number else { throw GroupCallEngineError.notRegistered }
        self.session = session
        self.options = options
        self.number = number
        machine = GroupCallStateMachine(number: number)
        certificate = try DTLSCertificate()
    }

    /// Follows the session (rings, keys, room changes) before any call: a device that may be
    /// rung calls this first. Starting or joining a call does it too.
    public func follow() { startControl() }

    /// Starts a call in `group` (its id) and joins it.
    public func start(group: String, callID: String = UUID().uuidString) async throws -> GroupCallInfo {
        try await enter(callID) { [connection = session.connection, fingerprint = certificate.fingerprint] in
            try await connection.startGroupCall(group: group, callID: callID, dtlsFingerprint: fingerprint)
        }
    }

    /// Joins a call this device was rung for.
    public func join(callID: String) async throws -> GroupCallInfo {
        try await enter(callID) { [connection = session.connection, fingerprint = certificate.fingerprint] in
            try await connection.joinGroupCall(callID: callID, dtlsFingerprint: fingerprint)
        }
    }

    private func enter(_ callID: String, _ request: @Sendable () async throws -> GroupCallInfo) async throws -> GroupCallInfo {
        if let call { throw GroupCallEngineError.alreadyInCall(call.callID) }
        try await session.claim(.group(callID: callID))
        do {
            let info = try await enterClaimed(callID, request)
            if info.callID != callID {
                await session.release(.group(callID: callID))
                try? await session.claim(.group(callID: info.callID))
            }
            return info
        } catch {
            await session.release(.group(callID: callID))
            throw error
        }
    }

    /// `enter`'s work once the device is claimed for the call: the request, the leg, the keys.
    private func enterClaimed(_ callID: String, _ request: @Sendable () async throws -> GroupCallInfo) async throws -> GroupCallInfo {
        startControl()
        _ = machine.handle(.entering(callID: callID))
        let socket: MediaSocket, info: GroupCallInfo, media: SFUMedia
        do {
            socket = try await bindSocket()
        } catch {
            _ = machine.handle(.out)
            throw error
        }
        do { info = try await request() } catch {
            socket.close()
            _ = machine.handle(.out)
            throw error
        }
        do { media = try makeMedia(info, socket: socket) } catch {
            // In the room without a leg is no use to anyone: out again.
            socket.close()
            _ = machine.handle(.out)
            _ = try? await session.connection.leaveGroupCall(callID: info.callID)
            throw error
        }
        callsEntered += 1
        let direction: CallRecord.Direction = rung[info.callID] == nil ? .outgoing : .incoming
        recordHistory { $0.began(CallRecord(kind: .group, direction: direction, peer: info.group.name, callID: info.callID)) }
        call = ActiveCall(callID: info.callID, instance: callsEntered, ring: try SenderKeyRing(), media: media)
        startVideo()
        rung[info.callID] = nil
        hearing = [:]
        // Listeners, then the first key (on the key queue) and the news that came meanwhile
        // (on the news queue).
        await perform(machine.handle(.entered(info)))
        // Keys given while this device was rung are installed before any media can arrive,
        // so a late joiner decodes its first frames.
        for signal in early where signal.callID == info.callID { acceptSenderKey(signal) }
        early.removeAll()
        report(media.start(self))
        return info
    }

    /// Mutes or unmutes this device's voice: silence is still sealed and sent, so the leg and
    /// the sender key stay in use and nobody sees this device drop out.
    public func setMuted(_ muted: Bool) {
        self.muted = muted
        call?.media.pump.muted = muted
    }

    /// Leaves the call: the server drops the leg, every key is wiped, the socket closed.
    public func leave() async {
        await end(tellServer: true)
    }

    func end(tellServer: Bool) async {
        guard let active = call else { return }
        call = nil
        recordHistory { $0.ended(.group, active.callID, ifNeverConnected: .failed) }
        _ = machine.handle(.out)
        muted = false  // mute is the call's, as on a 1:1 call
        // Keys and media go first, and the device is free, whatever the server takes to answer.
        active.ring.wipe()
        active.media.close()
        await session.release(.group(callID: active.callID))
        if tellServer { _ = try? await session.connection.leaveGroupCall(callID: active.callID) }
        hearing = [:]
        eventSink.yield(.keysWiped)
        eventSink.yield(.ended)
    }

    /// Leaves any call and stops reading the session's streams.
    public func close() async {
        await leave()
        for task in loops { task.cancel() }
        loops = []
        newsSink?.finish()
        keySink?.finish()
        eventSink.finish()
    }

    public func snapshot() -> GroupCallSnapshot? {
        guard let call, let room else { return nil }
        return GroupCallSnapshot(
            callID: call.callID, group: room.group, participants: room.participants, epoch: call.ring.epoch,
            mediaConnected: room.mediaConnected, hearing: hearing,
            framesOpened: call.media.pump.streams.mapValues(\.received), rekeys: room.rekeys, keyGiven: call.delivered,
            undecryptable: call.media.pump.unopened, framesSent: call.media.pump.outbound.sent,
            datagramsOverflowed: call.media.pump.inbox?.dropped ?? 0, legAddress: call.media.leg.socket.localAddress,
            picturesShown: Dictionary(
                (call.media.pump.video?.peers.values ?? [:].values).map { ($0.person, $0.receiver.picturesShown) }, uniquingKeysWith: max))
    }

    /// Calls this device was rung for and has not joined.
    public var invitations: [GroupCallInfo] { rung.values.sorted { $0.callID < $1.callID } }

    /// Test hooks: keep the SFrame ciphertext as it arrives from the SFU, and copies of the
    /// sender keys received (so a test can show what a leaver's keys can no longer open).
    func setCapture(_ on: Bool) { capturePayloads = on }
    func setImpairment(_ impairment: NetworkImpairment?) { self.impairment = impairment }
    func capturedPayloads() -> [String: [[UInt8]]] { call?.captured ?? [:] }
    func retainedKeys() -> [String: [SenderKeyAnnouncement]] { call?.retainedKeys ?? [:] }
    func receivedSignals() -> [CallSignal] { call?.receivedSignals ?? [] }

    /// Keeps the last 500 payloads of `member`'s (test hook).
    private func capture(_ payload: [UInt8], from member: String) {
        call?.captured[member, default: []].append(payload)
        if let count = call?.captured[member]?.count, count > 500 { call?.captured[member]?.removeFirst() }
    }
    var senderKeyRing: SenderKeyRing? { call?.ring }

    /// The news queue, fed by the session's stream (and by news replayed after entering a
    /// call), and the key queue; made once per engine, because the session's stream may only
    /// be read by one consumer.
    private func startControl() {
        guard newsSink == nil else { return }
        let (news, newsSink) = AsyncStream.makeStream(of: DeviceSession.GroupCallNews.self, bufferingPolicy: .unbounded)
        let (keyWork, keySink) = AsyncStream.makeStream(of: KeyWork.self, bufferingPolicy: .unbounded)
        self.newsSink = newsSink
        self.keySink = keySink
        let fromSession = session.groupCallNews
        loops = [
            Task { for await item in fromSession { newsSink.yield(item) } },
            Task { [weak self] in for await item in news { await self?.handle(item) } },
            Task { [weak self] in for await item in keyWork { await self?.handle(item) } }
        ]
    }

    func addListener(_ member: String) throws {
        guard let active = call, active.media.pump.streams[member] == nil else { return }
        // Only this member's signature: numbers of one group are often alike (+1555…00, …01),
        // and alike signatures make the analyser call the speaker ambiguous.
        active.media.pump.addStream(
            try InboundStream(source: member, voices: [member], startedAt: active.started, plays: options.decoded?.contains(member) ?? true)
        )
    }

    /// Every 20 ms: handshake timers, the frames due out (none before this device's first
    /// sender key is active), one frame played per member; every second a hearing report.
    func pumpTicked(completingSecond: Bool) async -> Bool {
        guard let active = call else { return false }
        report(active.media.tick(sends: active.ring.epoch != nil && room?.holdsFrames == false, seal: active.ring.encrypt))
        showVideo()
        if completingSecond {
            let now = active.media.pump.streams.values.map(hearing).sorted { $0.member < $1.member }
            hearing = Dictionary(uniqueKeysWithValues: now.map { ($0.member, $0) })
            eventSink.yield(.hearing(now))
            reportVideo()
        }
        return true
    }

    private func hearing(_ stream: InboundStream) -> GroupCallHearing {
        let analysis = stream.analysis()
        return GroupCallHearing(
            member: stream.source, heard: analysis.speaker == VoiceSignature(number: stream.source), level: analysis.level,
            epoch: stream.epoch, received: stream.received)
    }

    /// A datagram on the leg's socket: DTLS to the leg, SRTP to the member it decrypts for.
    func receive(_ datagram: MediaSocket.Datagram) {
        guard let active = call else { return }
        report(active.media.receive(datagram) { packet in open(packet, in: active) })
    }

    /// The member whose sender key opens `packet`'s frame. An SSRC is the member whose key
    /// first opened a frame of it (the KID must be one that member sent us); after that, only
    /// that member's keys are tried. The call's state is written only when an SSRC is learned
    /// or a test captures, not per frame.
    private func open(_ packet: RTPPacket, in active: ActiveCall) -> MediaPump.OpenedFrame? {
        let known = active.ssrcOwners[packet.ssrc]
        for member in known.map({ [$0] }) ?? (room?.participants ?? []).filter({ $0 != number }) {
            guard let plain = try? active.ring.decrypt(packet.payload, from: member) else { continue }
            if known == nil { learn(packet.ssrc, of: member) }
            if capturePayloads { capture(packet.payload, from: member) }
            return MediaPump.OpenedFrame(source: member, payload: plain.payload, epoch: UInt16(truncatingIfNeeded: plain.header.keyID))
        }
        return nil  // counted by the pump (`unopened`)
    }

    /// Notes that `ssrc` is `member`'s stream. A member with a stream already (they rejoined
    /// on a new leg, after losing the server) starts a new one, with its own sequence numbers:
    /// their listener starts afresh too, or its jitter buffer would wait for the old numbers.
    private func learn(_ ssrc: UInt32, of member: String) {
        guard let active = call else { return }
        if active.ssrcOwners.values.contains(member) {
            let owners = active.ssrcOwners.filter { $0.value != member }
            call?.ssrcOwners = owners
            active.media.pump.removeStream(of: member)
            try? addListener(member)
        }
        call?.ssrcOwners[ssrc] = member
        // Their video comes on the next SSRC, sealed under the keys that opened this frame.
        if let opening = active.ring.receiver(of: member) { active.media.pump.video?.expect(audio: ssrc, person: member, opening: opening) }
    }
}
