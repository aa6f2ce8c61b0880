/// What this device is talking in: nothing, a 1:1 call, a group call or a meeting — never two
/// at once. The device session holds it (`DeviceSession.claim(_:)`), so "one call at a time"
/// is decided in one place, whichever engine and whichever screen asks.
public enum Conversation: Sendable, Equatable, CustomStringConvertible {
    case none
    case call(callID: String)
    case group(callID: String)
    /// A meeting, named by its engine's claim (its code may not be known yet when it begins):
    /// a late release of an earlier meeting's claim cannot free the device during the next.
    case meeting(claim: String)

    public var description: String {
        switch self {
        case .none: "nothing"
        case .call: "a call"
        case .group: "a group call"
        case .meeting: "a meeting"
        }
    }
}

/// Why a conversation could not begin.
public enum ConversationError: Error, Equatable, CustomStringConvertible {
    /// The device is in another conversation: hang up or leave it first.
    case busy(Conversation)

    public var description: String {
        switch self {
        case let .busy(current): "already in \(current): hang up or leave it first"
        }
    }
}

extension DeviceSession {
    /// Claims the device for `next`; refused while another conversation holds it (claiming the
    /// one already held is allowed: a rejoin, an answer after the ring).
    public func claim(_ next: Conversation) throws(ConversationError) {
        guard conversation == .none || conversation == next else { throw .busy(conversation) }
        conversation = next
    }

    /// Gives the device back, if `ending` is what holds it.
    public func release(_ ending: Conversation) {
        if conversation == ending { conversation = .none }
    }
}
