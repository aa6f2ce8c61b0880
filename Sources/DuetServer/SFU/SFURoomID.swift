/// Which SFU room a leg belongs to. Group calls and meetings are rooms of different kinds, so no
/// id chosen for one can name a room of the other: a group call its starter named
/// "meeting-<code>" is a group call of that name in the starter's own group, never the meeting
/// (once the media port found rooms by one string, and such a call joined the meeting's room
/// unseen — docs/SECURITY.md).
public enum SFURoomID: Hashable, Sendable, CustomStringConvertible {
    /// A group call, by the id it was started under (unique among group calls).
    case groupCall(String)
    /// A meeting, by its code.
    case meeting(code: String)

    public var description: String {
        switch self {
        case let .groupCall(id): "group call \(id)"
        case let .meeting(code): "meeting \(code)"
        }
    }

    /// The meeting's code, for a meeting's room.
    public var meetingCode: String? {
        if case let .meeting(code) = self { code } else { nil }
    }
}
