import DuetClient

/// The bottom row: the keys that work right now, so nobody has to open the help to act.
/// Keys are bold, what they do is plain; when they do not all fit, the most obvious ones
/// (the first listed in `droppedFirst`) are left out whole rather than cutting the line.
enum KeyHints {
    struct Hint: Equatable, Sendable {
        var key: String
        var action: String
    }

    /// Keys whose hint goes first when the row is too narrow, most obvious first (removing a
    /// contact goes before adding one: it is the rarer, and it asks before it acts).
    static let droppedFirst = ["↑↓", "g", "l", "K", "d", "a"]

    static func line(_ state: TUIState, width: Int) -> StyledText {
        var shown = hints(for: state)
        for key in droppedFirst where text(shown).count > width {
            shown.removeAll { $0.key == key }
        }
        return text(shown).padded(to: width)
    }

    static func text(_ hints: [Hint]) -> StyledText {
        hints.enumerated().reduce(StyledText(" ")) { line, item in
            line + (item.offset == 0 ? StyledText() : "  ") + StyledText(item.element.key, .bold)
                + StyledText(" " + item.element.action)
        }
    }

    /// The hints for whatever takes the keys: the overlay if one is up, else the right pane.
    static func hints(for state: TUIState) -> [Hint] {
        if let overlay = state.overlay { return hints(for: overlay) }
        switch state.pane {
        case .contact:
            if state.contacts.isEmpty {
                return pairs(
                    ("a", "add"), ("g", "new group"), ("n", "new meeting"), ("J", "join link"), ("K", "keys"), ("l", "log"),
                    ("?", "help"), ("q", "quit"))
            }
            if ContactListView.selectedGroupIndex(state) != nil {
                return pairs(
                    ("↑↓", "select"), ("c", "call group"), ("g", "new group"), ("a", "add contact"), ("n", "new meeting"),
                    ("J", "join link"), ("K", "keys"), ("l", "log"), ("?", "help"), ("q", "quit"))
            }
            return pairs(
                ("↑↓", "select"), ("c", "call"), ("s", "safety number"), ("a", "add"), ("d", "remove"),
                ("g", "new group"), ("n", "new meeting"), ("J", "join link"), ("K", "keys"), ("l", "log"), ("?", "help"),
                ("q", "quit"))
        case .safetyNumber:
            return pairs(("v", "verify"), ("u", "unverify"), ("Esc", "back"))
        case .keys, .history:
            return pairs(("Esc", "back"), ("l", "log"), ("?", "help"), ("q", "quit"))
        case .call:
            if let call = state.call, call.state.isActive {
                let camera = call.video?.cameraOn.map { pairs(("V", $0 ? "camera off" : "camera on")) } ?? []
                return pairs(("m", "mute/unmute")) + camera + pairs(("h", "hang up"), ("l", "log"), ("?", "help"))
            }
            return pairs(("Esc", "back"), ("l", "log"), ("?", "help"), ("q", "quit"))
        case .groupCall:
            if let call = state.groupCall, call.phase.isActive {
                let camera = call.video?.cameraOn.map { pairs(("V", $0 ? "camera off" : "camera on")) } ?? []
                return pairs(("m", "mute/unmute")) + camera
                    + pairs(("+", "add member"), ("-", "remove member"), ("h", "hang up"), ("l", "log"), ("?", "help"))
            }
            return pairs(("Esc", "back"), ("l", "log"), ("?", "help"), ("q", "quit"))
        case .meeting:
            guard let meeting = state.meeting, meeting.phase.isActive else {
                return pairs(("Esc", "back"), ("n", "new meeting"), ("J", "join link"), ("l", "log"), ("?", "help"), ("q", "quit"))
            }
            guard meeting.isInside else { return pairs(("h", "stop waiting"), ("l", "log"), ("?", "help")) }
            let camera = meeting.video?.cameraOn.map { pairs(("V", $0 ? "camera off" : "camera on")) } ?? []
            let record =
                pairs(("m", "mute/unmute")) + camera
                + pairs(("R", meeting.recording ? "stop recording" : "record"), ("h", "leave"), ("l", "log"), ("?", "help"))
            return meeting.isHost && !meeting.knocking.isEmpty ? pairs(("a", "answer knock")) + record : record
        }
    }

    static func hints(for overlay: TUIState.Overlay) -> [Hint] {
        switch overlay {
        case .help: pairs(("Esc", "close"))
        case .incoming: pairs(("a", "accept"), ("d", "decline"))
        case let .addContact(prompt):
            pairs(("Enter", prompt.field == .number ? "next" : "confirm"), ("Esc", "cancel"))
        case .confirmRemove: pairs(("y", "remove"), ("n", "keep"))
        case .keyChangedWarning: pairs(("s", "compare safety numbers"), ("c", "call anyway"), ("Esc", "cancel"))
        case .incomingGroupCall: pairs(("a", "join"), ("d", "decline"))
        case let .createGroup(prompt):
            pairs(("Enter", prompt.field == .name ? "next" : "create"), ("Tab", "other field"), ("Esc", "cancel"))
        case let .groupMember(prompt):
            prompt.choices.isEmpty
                ? pairs(("Enter", "add"), ("Esc", "cancel"))
                : pairs(("↑↓", "pick"), ("Enter", "remove"), ("Esc", "cancel"))
        case .createMeeting: pairs(("o", "open"), ("r", "record"), ("Enter", "create"), ("Esc", "cancel"))
        case .joinMeeting: pairs(("Enter", "knock"), ("Tab", "other field"), ("Esc", "cancel"))
        case .knock: pairs(("a", "admit"), ("d", "deny"), ("Esc", "later"))
        }
    }

    private static func pairs(_ pairs: (String, String)...) -> [Hint] {
        pairs.map { Hint(key: $0.0, action: $0.1) }
    }
}
