/// Before ringing a contact whose key changed: the warning in words, and the three choices.
enum KeyChangedOverlay {
    static func lines(_ contact: ContactRow, width: Int) -> [StyledText] {
        var lines: [StyledText] = [.phrase("KEY CHANGED", .danger), ""]
        lines += StyledText(
            "\(contact.displayName)'s identity key changed since you last saw it. "
                + "Someone else may be answering."
        ).wrapped(to: width)
        lines.append("")
        lines +=
            (StyledText("s", .bold) + " compare safety numbers   " + StyledText("c", .bold) + " call anyway   "
            + StyledText("Esc", .bold) + " cancel").wrapped(to: width)
        return lines
    }
}
