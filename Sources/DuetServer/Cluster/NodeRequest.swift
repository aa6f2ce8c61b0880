import DuetCrypto
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
    /// A meeting request of the device authenticated as `key` (reaching its node from
    /// `source`), for the node holding the meeting or chosen to; the answer is the device's reply.
    case meeting(key: [UInt8], source: String, MeetingSignaling.Request)
    /// The device authenticated as `key` is gone: it leaves the node's meetings.
    case dropFromMeetings(key: [UInt8])
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
        case let .meeting(raw, source, request):
            guard let key = try? IdentityPublicKey(rawRepresentation: raw) else { return .error(DirectoryError.notRegistered.reply) }
            do { return try await MeetingSignaling(context: self).serveHere(request, key: key, source: source) } catch {
                return .error(error.reply)
            }
        case let .dropFromMeetings(key):
            await MeetingSignaling(context: self).dropHere(key: key)
            return nil
        }
    }
}
