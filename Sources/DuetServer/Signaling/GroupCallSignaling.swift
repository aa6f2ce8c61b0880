import DuetWire

/// Group-call rooms over signaling: start (which rings the group), join and leave, each
/// allowed only to current members of the call's group; every change is told to the group's
/// other online members as `groupCallChanged` (for those not in the room, the first one is
/// the ring).
struct GroupCallSignaling {
    let context: SignalingContext

    func serve(_ message: ClientMessage, fromKey key: [UInt8]) async throws(DirectoryError) -> ServerMessage {
        let directory = context.directory, calls = context.groupCalls
        guard let number = try await directory.number(boundTo: key) else { throw .notRegistered }
        switch message {
        case let .startGroupCall(request):
            guard Signaling.isValidToken(request.callID) else {
                throw .invalidGroup("a call id is 1 to \(Signaling.maximumTokenLength) letters, digits, '-' or '_'")
            }
            let group = try await directory.group(request.group, ofMember: number)
            let call = try await calls.start(request.callID, group: group, by: number)
            await announce(call, joined: [number], left: [], by: number)
            return .groupCall(call)
        case let .joinGroupCall(request):
            guard let groupID = await calls.groupID(of: request.callID) else { throw .unknownCall(request.callID) }
            let group: Signaling.Group
            do { group = try await directory.group(groupID, ofMember: number) } catch { throw .unknownCall(request.callID) }
            let call = try await calls.join(request.callID, number: number, group: group)
            await announce(call, joined: [number], left: [], by: number)
            return .groupCall(call)
        case let .leaveGroupCall(request):
            guard let call = await calls.leave(request.callID, number: number) else { throw .unknownCall(request.callID) }
            await announce(call, joined: [], left: [number], by: number)
            return .groupCall(call)
        default:
            preconditionFailure("GroupCallSignaling serves group-call messages only")
        }
    }

    /// Tells the group's other online members how the room changed.
    func announce(_ call: Signaling.GroupCall, joined: [String], left: [String], by number: String?) async {
        let event = ServerMessage.groupCallChanged(.init(call: call, joined: joined, left: left))
        for member in call.group.members where member != number {
            _ = await context.hub.send(event, toNumber: member)
        }
    }

    /// A device went offline, or left the group: it leaves its rooms, and the others are told.
    func drop(_ number: String, fromGroup groupID: String? = nil) async {
        for call in await context.groupCalls.leaveAll(number, inGroup: groupID) {
            await announce(call, joined: [], left: [number], by: number)
        }
    }
}
