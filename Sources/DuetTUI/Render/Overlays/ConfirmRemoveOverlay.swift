/// Before removing a contact: who exactly, and the two answers.
enum ConfirmRemoveOverlay {
    static func lines(_ contact: ContactRow, width: Int) -> [StyledText] {
        StyledText("Remove \(contact.displayName)?", .bold).wrapped(to: width)
            + ["", StyledText("y", .bold) + " remove   " + StyledText("n", .bold) + " keep"]
    }
}
