import DuetMedia
import DuetWire

/// Group-call rooms over signaling: start (which rings the group), join and leave, each
/// allowed only to current members of the call's group; every change is told to the group's
/// other online members as `groupCallChanged` (for those not in the room, the first one is
/// the ring). A start or join may announce the device's DTLS fingerprint, which admits its
/// handshake on the media port to the call's SFU room (`AnnouncedLegs`); leaving, vanishing or
/// being removed from the group withdraws it, and with it the media leg.
struct GroupCallSignaling {
    let context: SignalingContext

    /// The group-call requests a device may make (`SignalingRequest.route` picks them out);
    /// Codable to travel to the node holding the room (`NodeRequest`).
    enum Request: Codable, Sendable {
        case start(Signaling.StartGroupCall)
        case join(Signaling.GroupCallRequest)
        case leave(Signaling.GroupCallRequest)
    }

    func serve(_ request: Request, fromKey key: [UInt8]) async throws(DirectoryError) -> ServerMessage {
        guard let number = try await context.directory.number(boundTo: key) else { throw .notRegistered }
        if let answer = try await forwarded(request, number: number) { return answer }
        return try await serve(request, number: number)
    }

    /// On a node of several, the request when another node holds (or, for a start, is chosen
    /// to hold) the call's room: that node's answer (docs/deployment.md "Rooms"). Nil when the
    /// room is this node's, or no node holds it.
    private func forwarded(_ request: Request, number: String) async throws(DirectoryError) -> ServerMessage? {
        guard let mesh = context.switchboard.mesh else { return nil }
        let callID: String, holder: String?
        switch request {
        case let .start(start):
            guard Signaling.isValidToken(start.callID) else { return nil }  // refused here, below
            callID = start.callID
            holder = await mesh.rooms.claim(room: callID)
            guard holder != nil else { throw .storage(.failing) }
        case let .join(join), let .leave(join):
            callID = join.callID
            holder = await mesh.rooms.holder(of: callID)
        }
        guard let holder, holder != mesh.id else { return nil }
        // No answer: the node is gone; its rooms go with it within seconds, and a start then
        // places the call anew (what a device does on `unknown_call`).
        guard let answer = await mesh.ask(holder, .groupCall(number: number, request)) else {
            // It may yet serve the request: a leave queued behind it undoes a start or join.
            if case .leave = request {} else { await mesh.tell(holder, .groupCall(number: number, .leave(.init(callID: callID)))) }
            throw .unknownCall(callID)
        }
        switch answer {
        case let .groupCall(call):
            let moved = await context.remoteRooms.update(callID, holder: holder, number: number, isIn: call.participants.contains(number))
            // Members recorded under the room's former holder were in a room that is gone.
            if !moved.isEmpty { await context.switchboard.send(.groupCallLost(.init(callID: callID)), toNumbers: moved) }
        case .error:
            // A leave the holder refused (the room is gone there): not in it either way.
            if case .leave = request { await context.remoteRooms.update(callID, holder: holder, number: number, isIn: false) }
        default: break
        }
        return answer
    }

    /// `request` of `number`'s device, served by this node's registry (the device connected
    /// here, or to another node that forwarded it).
    func serve(_ request: Request, number: String) async throws(DirectoryError) -> ServerMessage {
        let directory = context.directory, calls = context.groupCalls
        switch request {
        case let .start(request):
            guard Signaling.isValidToken(request.callID) else {
                throw .invalidGroup("a call id is 1 to \(Signaling.maximumTokenLength) letters, digits, '-' or '_'")
            }
            let call: Signaling.GroupCall
            do {
                let fingerprint = try fingerprint(request.dtlsFingerprint, of: number)
                let group = try await directory.group(request.group, ofMember: number)
                call = try await calls.start(request.callID, group: group, by: number)
                try await announceLeg(fingerprint, callID: call.callID, number: number)
            } catch {
                // A claim made for a room that did not open here is given back.
                if await calls.call(request.callID) == nil { await context.switchboard.mesh?.rooms.release(room: request.callID) }
                throw error
            }
            await announce(call, joined: [number], left: [], by: number)
            return .groupCall(withMedia(call))
        case let .join(request):
            let fingerprint = try fingerprint(request.dtlsFingerprint, of: number)
            guard let groupID = await calls.groupID(of: request.callID) else { throw .unknownCall(request.callID) }
            let group: Signaling.Group
            do { group = try await directory.group(groupID, ofMember: number) } catch { throw .unknownCall(request.callID) }
            let call = try await calls.join(request.callID, number: number, group: group)
            // A removal from the group may have run between the membership check and the join
            // (the directory and the registry are separate actors): check again, and undo. The
            // membership row is all this needs, not the group and its vouches decoded again.
            guard (try? await directory.isMember(number, ofGroup: groupID)) == true else {
                _ = await calls.leave(request.callID, number: number)
                throw .unknownCall(request.callID)
            }
            try await announceLeg(fingerprint, callID: call.callID, number: number)
            await announce(call, joined: [number], left: [], by: number)
            return .groupCall(withMedia(call))
        case let .leave(request):
            guard let call = await calls.leave(request.callID, number: number) else { throw .unknownCall(request.callID) }
            await left(call, number: number)
            return .groupCall(call)
        }
    }

    /// `number` is out of `call`'s room: its leg is withdrawn, the others are told, and an empty
    /// room's claim is given back.
    private func left(_ call: Signaling.GroupCall, number: String) async {
        context.mediaLegs.withdraw(room: .groupCall(call.callID), number: number)
        await announce(call, joined: [], left: [number], by: number)
        if call.participants.isEmpty { await context.switchboard.mesh?.rooms.release(room: call.callID) }
    }

    /// Parses an announced fingerprint, and refuses one another number holds before the room
    /// changes (`announceLeg` checks again, atomically, after it).
    private func fingerprint(_ text: String?, of number: String) throws(DirectoryError) -> DTLSFingerprint? {
        guard let text else { return nil }
        guard let fingerprint = DTLSFingerprint(text) else {
            throw .invalidFingerprint("dtlsFingerprint is 32 hex pairs joined by ':' (SHA-256 of the DTLS certificate)")
        }
        try context.mediaLegs.checkFree(fingerprint, for: number)
        return fingerprint
    }

    /// Records the pending leg once `number` is in the room. A leave or drop that ran between
    /// the join and this announcement found nothing to withdraw, so the room is read again
    /// afterwards: if `number` is no longer in it, the announcement is withdrawn here.
    private func announceLeg(_ fingerprint: DTLSFingerprint?, callID: String, number: String) async throws(DirectoryError) {
        guard let fingerprint else { return }
        try context.mediaLegs.announce(fingerprint, for: .init(room: .groupCall(callID), number: number))
        if await context.groupCalls.call(callID)?.participants.contains(number) != true {
            context.mediaLegs.withdraw(room: .groupCall(callID), number: number)
        }
    }

    /// The reply's view of the room: where its media goes and what certificate to expect there.
    private func withMedia(_ call: Signaling.GroupCall) -> Signaling.GroupCall {
        var call = call
        call.media = context.media.description
        call.mediaFingerprint = context.mediaFingerprint.description
        return call
    }

    /// Tells the group's other online members how the room changed, with the group's summary
    /// (`Signaling.GroupCall.announced`) rather than its vouches.
    func announce(_ call: Signaling.GroupCall, joined: [String], left: [String], by number: String?) async {
        let event = ServerMessage.groupCallChanged(.init(call: call.announced, joined: joined, left: left))
        await context.switchboard.send(event, toNumbers: call.group.members.filter { $0 != number })
    }

    /// A device went offline, or left the group: it leaves its rooms, and the others are told —
    /// on every node holding rooms.
    func drop(_ number: String, fromGroup groupID: String? = nil) async {
        await dropHere(number, fromGroup: groupID)
        guard let mesh = context.switchboard.mesh else { return }
        if groupID == nil { await context.remoteRooms.drop(number) }
        for node in await mesh.rooms.nodesHoldingRooms() { await mesh.tell(node, .dropFromRooms(number: number, groupID: groupID)) }
    }

    /// `drop` for this node's rooms only.
    func dropHere(_ number: String, fromGroup groupID: String? = nil) async {
        for call in await context.groupCalls.leaveAll(number, inGroup: groupID) { await left(call, number: number) }
    }
}

extension Signaling.GroupCall {
    /// The room as a change announces it: the group's id, name, owner and members, without its
    /// founding and vouches. A device takes the signed membership it gives keys by only from the
    /// reply to its start or join and from `groupChanged` (`GroupCallStateMachine`), never from
    /// a room change, so the vouches were of no use there — and at about 7 KB of JSON for 32
    /// members, a room change sent to every member on every join was most of a group call's
    /// signaling to encode and decode (docs/performance.md, "Group settle").
    var announced: Signaling.GroupCall {
        var call = self
        call.group.founding = nil
        call.group.vouches = nil
        return call
    }
}
