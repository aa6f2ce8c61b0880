import DuetWire

/// What one node asks of another on behalf of a device connected to it (docs/deployment.md
/// "Rooms"). Nodes trust each other as the parts of one server do: they share its directory.
enum NodeRequest: Codable, Sendable {
    /// A group-call request of `number`'s device, for the node holding the call's room; the
    /// answer is the reply the device gets.
    case groupCall(number: String, GroupCallSignaling.Request)
    /// `number` went offline, or left group `groupID`: it leaves its rooms on the node told.
    case dropFromRooms(number: String, groupID: String?)
    /// Group `group` changed: the node's rooms of it take the new membership and ring `added`.
    case regroup(Signaling.Group, added: [String])
}

extension SignalingContext {
    /// Does what another node asked; the answer for its device, if the request has one.
    func serve(_ request: NodeRequest) async -> ServerMessage? {
        switch request {
        case let .groupCall(number, request):
            do { return try await GroupCallSignaling(context: self).serve(request, number: number) } catch { return .error(error.reply) }
        case let .dropFromRooms(number, groupID):
            await GroupCallSignaling(context: self).dropHere(number, fromGroup: groupID)
            return nil
        case let .regroup(group, added):
            await GroupSignaling(context: self).regroupHere(group, added: added)
            return nil
        }
    }
}
