import DuetClient

/// The right pane for the highlighted contact: who they are, whether they are online, and
/// whether their key is trusted, with the key to press next.
enum ContactDetailView {
    static let labelWidth = 10

    static func lines(_ state: TUIState, width: Int) -> [StyledText] {
        if let group = ContactListView.selectedGroupIndex(state).map({ state.groups[$0] }) {
            return groupLines(group, width: width)
        }
        guard let index = ContactListView.clampedSelection(state) else {
            return .wrapping(
                [StyledText("No contact selected", .bold), "", "Press a to add a contact by their number."],
                to: width)
        }
        let contact = state.contacts[index]
        var lines: [StyledText] = [StyledText(contact.name ?? contact.number, .bold).truncated(to: width), ""]
        lines += TextFormat.labelled("Number", StyledText(contact.number), labelWidth: labelWidth, width: width)
        lines += TextFormat.labelled("Presence", presence(contact.online), labelWidth: labelWidth, width: width)
        lines += TextFormat.labelled("Trust", trustLine(contact.trust), labelWidth: labelWidth, width: width)
        if let note = contact.note, !note.isEmpty {
            lines.append("")
            lines += TextFormat.labelled("Note", StyledText(note), labelWidth: labelWidth, width: width)
        }
        lines += ["", StyledText("press c to call")]
        return lines
    }

    static func presence(_ online: Bool?) -> StyledText {
        switch online {
        case true?: StyledText("● online", .good)
        case false?: StyledText("○ offline", .dim)
        case nil: StyledText("unknown", .dim)
        }
    }

    /// The trust state with what it means and what to do about it.
    static func trustLine(_ trust: ContactTrust) -> StyledText {
        switch trust {
        case .verified:
            TextFormat.trust(trust)
        case .unverified:
            TextFormat.trust(trust) + " — press s to compare safety numbers"
        case .keyChanged:
            TextFormat.trust(trust)
                + " — their identity key changed; press s to compare the new safety number before trusting calls"
        }
    }

    /// A group: its members (the owner marked) and what can be done with it today.
    static func groupLines(_ group: GroupRow, width: Int) -> [StyledText] {
        var lines: [StyledText] = [StyledText("# " + group.name, .bold).truncated(to: width), ""]
        lines += TextFormat.labelled("Group id", StyledText(group.id), labelWidth: labelWidth, width: width)
        lines += TextFormat.labelled("Members", StyledText("\(group.members.count)"), labelWidth: labelWidth, width: width)
        for member in group.members {
            let owner = member.contains(group.owner) ? StyledText("  (owner)", .dim) : StyledText()
            lines.append((StyledText(String(repeating: " ", count: labelWidth)) + StyledText(member) + owner).truncated(to: width))
        }
        lines += [""] + StyledText("press c to call the group; during the call + and - add and remove members", .dim).wrapped(to: width)
        return lines
    }
}
