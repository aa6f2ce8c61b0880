import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// Meetings over signaling (docs/meetings.md): create, knock, admit or deny, leave,
/// record. Any authenticated device may take part — a registered one as its number, any other
/// as a guest under a display name. A participant's DTLS certificate fingerprint is announced
/// to the media port as it is let in, so its handshake joins the meeting's SFU room (which
/// decrypts: meetings are cloud-encrypted, unlike group calls). When the host leaves, the
/// meeting ends for everyone (docs/meetings.md says why).
struct MeetingSignaling {
    let context: SignalingContext

    /// Said to a knocker who was denied and to one who knocked at a code that does not exist:
    /// the same words, after a similar wait, so a guesser learns nothing from either.
    static let notAdmittedReason = "not admitted: there is no such meeting, or its host did not let you in"
    static let hostLeftReason = "the host left, which ends the meeting"
    /// Said when the server node holding the meeting is gone (several nodes: docs/deployment.md).
    static let nodeLostReason = "the server holding the meeting stopped, which ends it; the host can start a new one"

    /// The meeting requests a device may make (`SignalingRequest.route` picks them out);
    /// Codable to travel to the node holding the meeting (`NodeRequest`).
    enum Request: Codable, Sendable {
        case create(Signaling.CreateMeeting)
        case join(Signaling.JoinMeeting)
        case leave(Signaling.MeetingCode)
        case admit(Signaling.AdmitToMeeting)
        case record(Signaling.RecordMeeting)
    }

    func serve(_ request: Request, key: IdentityPublicKey, source: String) async throws(DirectoryError) -> ServerMessage {
        if let answer = try await forwarded(request, key: key, source: source) { return answer }
        return try await serveHere(request, key: key, source: source)
    }

    /// The room id of meeting `code` among the nodes' claims (group calls use their call ids).
    static func roomID(_ code: String) -> String { "meeting:\(code)" }

    /// On a node of several, the request when another node holds the meeting (or, for a new
    /// one, is the least loaded): that node's answer (docs/deployment.md "Rooms").
    private func forwarded(_ request: Request, key: IdentityPublicKey, source: String) async throws(DirectoryError) -> ServerMessage? {
        guard let mesh = context.switchboard.mesh else { return nil }
        let code: String?, holder: String?
        switch request {
        case .create:
            (code, holder) = (nil, await mesh.rooms.leastLoaded())
        case let .join(join): (code, holder) = (join.code, await mesh.rooms.holder(of: Self.roomID(join.code)))
        case let .leave(leave): (code, holder) = (leave.code, await mesh.rooms.holder(of: Self.roomID(leave.code)))
        case let .admit(admit): (code, holder) = (admit.code, await mesh.rooms.holder(of: Self.roomID(admit.code)))
        case let .record(record): (code, holder) = (record.code, await mesh.rooms.holder(of: Self.roomID(record.code)))
        }
        guard let holder, holder != mesh.id else { return nil }
        if case .join = request, let wait = context.joinLimiter.attempt(from: source) { throw .rateLimited(retryAfterSeconds: wait) }
        let raw = key.rawRepresentation
        guard let answer = await mesh.ask(holder, .meeting(key: raw, source: source, request)) else {
            // It may yet serve the request: a leave queued behind it undoes a join.
            if case let .join(join) = request {
                await mesh.tell(holder, .meeting(key: raw, source: source, .leave(.init(code: join.code))))
            }
            throw code.map { DirectoryError.unknownMeeting($0) } ?? .internalFailure("the node chosen for the meeting did not answer")
        }
        switch answer {
        case let .meeting(meeting): await context.remoteRooms.update(meeting: meeting.code, holder: holder, key: raw, isIn: true)
        case let .meetingWaiting(waiting):
            let isIn: Bool = if case .leave = request { false } else { true }  // a knock waits at the door
            await context.remoteRooms.update(meeting: waiting.code, holder: holder, key: raw, isIn: isIn)
        default: break
        }
        return answer
    }

    /// `request` of `key`'s device, served by this node's registry (the device connected here,
    /// or to another node that forwarded it).
    /// `countingJoins: false` when the device's own node counted the join (it forwarded it).
    func serveHere(
        _ request: Request, key: IdentityPublicKey, source: String, countingJoins: Bool = true
    ) async throws(DirectoryError) -> ServerMessage {
        let raw = key.rawRepresentation
        switch request {
        case let .create(request):
            return try await create(request, key: key)
        case let .join(request):
            if countingJoins, let wait = context.joinLimiter.attempt(from: source) { throw .rateLimited(retryAfterSeconds: wait) }
            let member = try await member(key, name: request.name, fingerprint: request.dtlsFingerprint, ssrc: request.ssrc)
            guard MeetingCodeGenerator.isWellFormed(request.code) else {
                refuseLater(request.code, to: raw)
                return .meetingWaiting(.init(code: request.code))
            }
            switch try await context.meetings.knock(request.code, member: member) {
            case let .admitted(room):
                try announceLeg(member, in: room.code)
                await tell(room, joined: [member.id], left: [], except: raw)
                return .meeting(withMedia(room.view(for: raw)))
            case let .waiting(room):
                await tell(room, joined: [], left: [], except: raw)  // the host sees the knock
                if let knock = room.knocking.first(where: { $0.key == raw })?.knock { turnAwayLater(request.code, key: raw, knock: knock) }
                return .meetingWaiting(.init(code: request.code))
            case .unknown:
                refuseLater(request.code, to: raw)
                return .meetingWaiting(.init(code: request.code))
            }
        case let .admit(request):
            let (room, member) = try await context.meetings.decide(
                request.code, by: raw, participant: request.participant, admit: request.admit)
            if request.admit {
                try announceLeg(member, in: room.code)
                await context.switchboard.send(.meetingAdmitted(withMedia(room.view(for: member.key))), toKey: member.key)
                await tell(room, joined: [member.id], left: [], except: member.key)
            } else {
                await context.switchboard.send(.meetingClosed(.init(code: room.code, reason: Self.notAdmittedReason)), toKey: member.key)
                await tell(room, joined: [], left: [], except: member.key)
            }
            return .meeting(room.view(for: raw))
        case let .record(request):
            let room = try await context.meetings.record(request.code, by: raw, on: request.on)
            if request.on {
                do throws(DirectoryError) { try startRecording(room.code) } catch {
                    _ = await context.meetings.recordingStopped(room.code)  // no REC badge over nothing
                    throw error
                }
            } else {
                context.recordings?.stop(room.code)
            }
            await tell(room, joined: [], left: [], except: nil)
            return .meeting(room.view(for: raw))
        case let .leave(request):
            await leave(request.code, key: raw)
            return .meetingWaiting(.init(code: request.code))
        }
    }

    /// `key` leaves `code`; if it was the host, everyone else is told the meeting ended.
    func leave(_ code: String, key: [UInt8]) async {
        switch await context.meetings.leave(code, key: key) {
        case let .left(room, member, wasKnocking):
            if !wasKnocking {
                context.mediaLegs.withdraw(room: .meeting(code: code), number: member.id)
                context.recordings?.participantLeft(code, participant: member.id)
            }
            await tell(room, joined: [], left: wasKnocking ? [] : [member.id], except: key)
        case let .ended(room):
            for member in room.members { context.mediaLegs.withdraw(room: .meeting(code: code), number: member.id) }
            context.recordings?.stop(code)
            for member in room.members + room.knocking where member.key != key {
                await context.switchboard.send(.meetingClosed(.init(code: code, reason: Self.hostLeftReason)), toKey: member.key)
            }
            await context.switchboard.mesh?.rooms.release(room: Self.roomID(code))
            context.logger.info("meeting ended", metadata: ["code": "\(code)"])
        case nil:
            break
        }
    }

    /// Starts the server's recorder; a server that cannot record says why and records nothing.
    /// A full disk is the storage episode the directory logs once; anything else is logged here.
    private func startRecording(_ code: String) throws(DirectoryError) {
        guard let recordings = context.recordings else { throw .cannotRecord("this server does not record meetings") }
        do { try recordings.start(code) } catch {
            if case .diskFull = error {
                context.directory.health.refused(.full, detail: "\(error)")
                throw .storage(.full)
            }
            context.logger.error("cannot record", metadata: ["meeting": "\(code)", "error": "\(error)"])
            throw .cannotRecord("the server could not start recording; its operator can see why in its log")
        }
    }

    /// The recorder stopped on its own (it could not write): the meeting goes on unrecorded,
    /// and everyone in it is told why, so nobody trusts a REC badge that records nothing.
    func recordingStopped(_ stop: MeetingRecordings.Stopped) async {
        guard let room = await context.meetings.recordingStopped(stop.code) else { return }
        await tell(room, joined: [], left: [], except: nil, notice: stop.notice)
    }

    /// A connection closed: its device leaves every meeting it was in or knocking at — on
    /// every node holding rooms, unless the device is still connected somewhere (it moved to
    /// another node and may be in a meeting again through it).
    func drop(key: [UInt8]) async {
        await dropHere(key: key)
        guard let mesh = context.switchboard.mesh, await !context.switchboard.isConnected(key: key) else { return }
        await context.remoteRooms.drop(key: key)
        for node in await mesh.rooms.nodesHoldingRooms() { await mesh.tell(node, .dropFromMeetings(key: key)) }
    }

    /// `drop` for this node's meetings only.
    func dropHere(key: [UInt8]) async {
        for code in await context.meetings.codes(of: key) { await leave(code, key: key) }
    }

    /// Who `key` is in a meeting: its number if registered, else a guest named as it asked.
    private func member(_ key: IdentityPublicKey, name: String?, fingerprint text: String, ssrc: UInt32) async throws(DirectoryError)
        -> MeetingRegistry.Member
    {
        guard let fingerprint = DTLSFingerprint(text) else {
            throw .invalidFingerprint("dtlsFingerprint is 32 hex pairs joined by ':' (SHA-256 of the DTLS certificate)")
        }
        let trimmed = name?.trimmingCharacters(in: .whitespaces) ?? ""
        guard trimmed.count <= 40, !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidGroup("a display name is at most 40 characters, without control characters")
        }
        let participant: Signaling.MeetingParticipant
        if let number = try await context.directory.number(boundTo: key.rawRepresentation) {
            participant = .init(id: number, name: trimmed.isEmpty ? number : trimmed, guest: false, ssrc: ssrc)
        } else {
            guard !trimmed.isEmpty else { throw .invalidGroup("a guest needs a display name: pass --name NAME") }
            participant = .init(id: Self.guestID(for: key), name: trimmed, guest: true, ssrc: ssrc)
        }
        try context.mediaLegs.checkFree(fingerprint, for: participant.id)
        return MeetingRegistry.Member(participant: participant, key: key.rawRepresentation, fingerprint: fingerprint)
    }

    /// A guest's id in every meeting: from its key, so the same device is the same guest when it
    /// comes back. 64 bits of the key's SHA-256, so making a key that shares another guest's id
    /// takes about 2⁶⁴ tries (32 bits, as it was, fall to a night's grinding); and a shared id
    /// is refused anyway, never takes over (`MeetingRegistry.knock`).
    static func guestID(for key: IdentityPublicKey) -> String {
        "guest-\(key.fingerprint.filter(\.isHexDigit).prefix(guestIDDigits).lowercased())"
    }

    static let guestIDDigits = 16

    /// Whether `text` has the shape of a `guestID` (the relay's credentials name guests by it).
    static func isGuestID(_ text: Substring) -> Bool {
        text.hasPrefix("guest-") && text.count == "guest-".count + guestIDDigits && text.dropFirst("guest-".count).allSatisfy(\.isHexDigit)
    }

    /// A new meeting with `key` as its host (and its recorder first, when asked for).
    private func create(_ request: Signaling.CreateMeeting, key: IdentityPublicKey) async throws(DirectoryError) -> ServerMessage {
        let raw = key.rawRepresentation
        let member = try await member(key, name: request.name, fingerprint: request.dtlsFingerprint, ssrc: request.ssrc)
        let code = MeetingCodeGenerator.make()
        // Quotas before the recorder, so a refused meeting leaves no recording behind.
        try await context.meetings.checkQuota(host: raw, record: request.record)
        // The recorder first: a meeting asked for recorded that cannot be is refused whole,
        // rather than made with a REC badge over nothing.
        if request.record { try startRecording(code) }
        let room: MeetingRegistry.Room
        do throws(DirectoryError) {
            // Checked again: another connection of this key may have made one meanwhile.
            room = try await context.meetings.create(code: code, host: member, open: request.open, record: request.record)
        } catch {
            context.recordings?.stop(code)
            throw error
        }
        do throws(DirectoryError) { try announceLeg(member, in: code) } catch {
            _ = await context.meetings.leave(code, key: raw)
            context.recordings?.stop(code)
            throw error
        }
        // Claimed for this node, so devices on the others are sent here.
        await context.switchboard.mesh?.rooms.claimHere(room: Self.roomID(code))
        context.logger.info("meeting created", metadata: ["code": "\(room.code)", "open": "\(request.open)"])
        return .meeting(withMedia(room.view(for: raw)))
    }

    private func announceLeg(_ member: MeetingRegistry.Member, in code: String) throws(DirectoryError) {
        try context.mediaLegs.announce(
            member.fingerprint, for: .init(room: .meeting(code: code), number: member.id, ssrc: member.participant.ssrc))
    }

    /// The reply's view with where the media goes.
    private func withMedia(_ meeting: Signaling.Meeting) -> Signaling.Meeting {
        var meeting = meeting
        meeting.media = context.media.description
        meeting.mediaFingerprint = context.mediaFingerprint.description
        return meeting
    }

    /// Tells everyone in `room` (but `except`) how it changed; the host's view shows the door.
    private func tell(_ room: MeetingRegistry.Room, joined: [String], left: [String], except: [UInt8]?, notice: String? = nil) async {
        for member in room.members where member.key != except {
            let change = Signaling.MeetingChanged(meeting: room.view(for: member.key), joined: joined, left: left, notice: notice)
            await context.switchboard.send(.meetingChanged(change), toKey: member.key)
        }
    }

    /// A knock nobody answered within `knockTimeout` is turned away, and the host's door list
    /// loses it.
    private func turnAwayLater(_ code: String, key: [UInt8], knock: Int) {
        let context = self.context, signaling = self
        Task {
            try? await Task.sleep(for: context.knockTimeout)
            guard let (room, member) = await context.meetings.expireKnock(code, key: key, knock: knock) else { return }
            let reason = Self.knockTimedOutReason(context.knockTimeout)
            await context.switchboard.send(.meetingClosed(.init(code: code, reason: reason)), toKey: member.key)
            await signaling.tell(room, joined: [], left: [], except: member.key)
        }
    }

    static func knockTimedOutReason(_ timeout: Duration) -> String {
        "not admitted: nobody let you in within \(timeout.components.seconds) seconds"
    }

    /// An unknown (or malformed) code is refused the way a host refuses: `waiting`, then after a
    /// human-like wait, in a host's denial's words. Not after the whole knock timeout, as a
    /// knock nobody answers is: that would also be how a device learns its meeting is gone
    /// after the server restarted (docs/meetings.md "Unknown codes" says what this leaves).
    private func refuseLater(_ code: String, to key: [UInt8]) {
        let switchboard = context.switchboard
        Task {
            try? await Task.sleep(for: .milliseconds(Int.random(in: 800...2500)))
            await switchboard.send(.meetingClosed(.init(code: code, reason: Self.notAdmittedReason)), toKey: key)
        }
    }
}
