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
    /// Does what node `origin` asked; the answer for its device, if the request has one. The
    /// members it brings in are remembered by origin (`ForwardedMembers`).
    func serve(_ request: NodeRequest, from origin: String?) async -> ServerMessage? {
        switch request {
        case let .groupCall(number, request):
            let answer: ServerMessage
            do { answer = try await GroupCallSignaling(context: self).serve(request, number: number) } catch { return .error(error.reply) }
            if let origin, case let .groupCall(call) = answer {
                await forwardedMembers.update(number: number, origin: origin, isIn: call.participants.contains(number))
            }
            return answer
        case let .dropFromRooms(number, groupID):
            await GroupCallSignaling(context: self).dropHere(number, fromGroup: groupID)
            return nil
        case let .regroup(group, added):
            await GroupSignaling(context: self).regroupHere(group, added: added)
            return nil
        case let .meeting(raw, source, request):
            guard let key = try? IdentityPublicKey(rawRepresentation: raw) else { return .error(DirectoryError.notRegistered.reply) }
            let answer: ServerMessage
            do {
                // The join rate was counted on the device's own node, which saw its address.
                answer = try await MeetingSignaling(context: self).serveHere(request, key: key, source: source, countingJoins: false)
            } catch {
                return .error(error.reply)
            }
            if let origin {
                let isIn: Bool = if case .leave = request { false } else { true }
                await forwardedMembers.update(key: raw, origin: origin, isIn: isIn)
            }
            return answer
        case let .dropFromMeetings(key):
            await MeetingSignaling(context: self).dropHere(key: key)
            return nil
        }
    }

    /// The members other nodes brought in whose node is not among `live`: out of this node's
    /// rooms and meetings, as if their connections had closed here.
    func dropOrphans(keeping live: Set<String>) async {
        let orphans = await forwardedMembers.orphaned(keeping: live)
        for number in orphans.numbers.sorted() { await GroupCallSignaling(context: self).dropHere(number) }
        for key in orphans.keys { await MeetingSignaling(context: self).dropHere(key: key) }
    }
}
