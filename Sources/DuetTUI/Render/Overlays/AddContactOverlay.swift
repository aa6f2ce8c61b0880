/// Typing a new contact: the number, then a name; "_" marks the field being typed, and the
/// last refusal is shown in words.
enum AddContactOverlay {
    static func lines(_ prompt: AddContactPrompt, width: Int) -> [StyledText] {
        var lines: [StyledText] = [StyledText("Add a contact", .bold), ""]
        lines += field("Number", prompt.number, active: prompt.field == .number, width: width)
        lines += field("Name", prompt.name, active: prompt.field == .name, width: width)
        if let error = prompt.error {
            lines.append("")
            lines += StyledText(error, .danger).wrapped(to: width)
        }
        let enter = prompt.field == .number ? "next" : "confirm"
        lines += ["", StyledText("Enter", .bold) + StyledText(" \(enter)   ") + StyledText("Esc", .bold) + " cancel"]
        return lines
    }

    /// "Number: +1555_" — the active field's label is bold; a value too long to fit keeps its end
    /// (where the typing happens) visible.
    static func field(_ label: String, _ value: String, active: Bool, width: Int, labelWidth: Int = 8) -> [StyledText] {
        let labelText = StyledText((label + ":").padding(labelWidth), active ? .bold : .plain)
        var valueText = StyledText(value)
        if active { valueText += StyledText("_", .bold) }
        let room = width - labelText.count
        if valueText.count > room, room > 1 {
            valueText = "…" + StyledText(cells: Array(valueText.cells.suffix(room - 1)))
        }
        return [labelText + valueText]
    }
}

private extension String {
    /// Padded with spaces to `width` characters.
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
