import DuetClient

/// What the call panes show: nothing yet, a 1:1 call, a group call or a meeting, each with its
/// own data. The device talks in one conversation at a time (`DeviceSession.conversation`),
/// and so does the screen: the enum makes a second one unrepresentable. An ended
/// conversation stays here, so its final view (keys wiped, why it ended) remains readable
/// until the next one begins.
public enum ConversationView: Equatable, Sendable {
    case none
    case call(CallView)
    case group(GroupCallView)
    case meeting(MeetingView)

    /// Ringing, joining, knocking or connected: not over.
    public var isActive: Bool {
        switch self {
        case .none: false
        case let .call(call): call.state.isActive
        case let .group(call): call.phase.isActive
        case let .meeting(meeting): meeting.phase.isActive
        }
    }

    /// The pane that shows this conversation.
    public var pane: TUIState.Pane? {
        switch self {
        case .none: nil
        case .call: .call
        case .group: .groupCall
        case .meeting: .meeting
        }
    }
}

/// Views of the conversation by kind, for the panes and the controllers: each reads nil
/// unless the conversation is of its kind; setting one replaces the conversation (setting
/// nil clears it only when it is of that kind).
extension TUIState {
    /// The pane of the conversation in progress, if one is.
    public var activeCallPane: Pane? { conversation.isActive ? conversation.pane : nil }

    public var call: CallView? {
        get { if case let .call(view) = conversation { view } else { nil } }
        set {
            if let newValue {
                conversation = .call(newValue)
            } else if case .call = conversation {
                conversation = .none
            }
        }
    }

    public var groupCall: GroupCallView? {
        get { if case let .group(view) = conversation { view } else { nil } }
        set {
            if let newValue {
                conversation = .group(newValue)
            } else if case .group = conversation {
                conversation = .none
            }
        }
    }

    public var meeting: MeetingView? {
        get { if case let .meeting(view) = conversation { view } else { nil } }
        set {
            if let newValue {
                conversation = .meeting(newValue)
            } else if case .meeting = conversation {
                conversation = .none
            }
        }
    }

    /// The contact's name for `number`, if the contacts list has one.
    func contactName(_ number: String) -> String? {
        contacts.first { $0.number == number }?.name
    }

    /// "Tone Alto (+15550002)", "you", or the bare number.
    func displayName(_ number: String) -> String {
        if number == ownNumber { return "you" }
        return contactName(number).map { "\($0) (\(number))" } ?? number
    }

    /// Display names joined with commas, or "nobody yet".
    func names(_ numbers: [String]) -> String {
        numbers.isEmpty ? "nobody yet" : numbers.map(displayName).joined(separator: ", ")
    }
}
