/// The key handling the TUI's typed boxes (add contact, new group, group member) share: Escape
/// closes, Backspace deletes from the focused field, Tab moves to the next field, a character
/// is appended when the focused field accepts it and is under its limit, and Enter asks to
/// submit the focused field. It exists so those editors keep only what differs — their
/// validation, what submitting does, ↑/↓ for picking a member — instead of each repeating
/// this switch. Pure: the editors act on the outcome.
struct PromptKeys: Sendable {
    /// What a field accepts: which characters, and how many in all.
    struct Rule: Sendable {
        let limit: Int
        let accepts: @Sendable (Character) -> Bool

        /// A phone number: "+" and digits, up to 16.
        static let number = Rule(limit: 16) { $0 == "+" || $0.isNumber }
        /// A display name: anything but a newline, up to 40.
        static let name = Rule(limit: 40) { !$0.isNewline }
        /// Numbers separated by spaces, up to 200.
        static let numbers = Rule(limit: 200) { $0 == "+" || $0 == " " || $0.isNumber }
    }

    enum Outcome: Equatable, Sendable {
        /// Escape: the box goes away.
        case close
        /// Enter: the focused field is done; what that means is the editor's.
        case submit
        /// Anything else: the texts or the focus may have changed (or not); redraw the box.
        case edited
    }

    /// The fields' texts, in Tab order.
    var texts: [String]
    /// Index into `texts` of the field being typed in.
    var focus: Int
    /// One rule per field.
    let rules: [Rule]

    init(texts: [String], focus: Int = 0, rules: [Rule]) {
        precondition(texts.count == rules.count && texts.indices.contains(focus))
        self.texts = texts
        self.focus = focus
        self.rules = rules
    }

    mutating func apply(_ key: KeyPress) -> Outcome {
        switch key {
        case .escape:
            return .close
        case .enter:
            return .submit
        case .backspace:
            _ = texts[focus].popLast()
        case .tab:
            focus = (focus + 1) % texts.count
        case let .character(character):
            let rule = rules[focus]
            if rule.accepts(character), texts[focus].count < rule.limit { texts[focus].append(character) }
        case .up, .down, .resize:
            break
        }
        return .edited
    }
}
