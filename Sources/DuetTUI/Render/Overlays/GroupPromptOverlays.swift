/// Making a group: its name, then its members' numbers separated by spaces (this device is
/// always a member, and the owner).
enum CreateGroupOverlay {
    static func lines(_ prompt: CreateGroupPrompt, width: Int) -> [StyledText] {
        var lines: [StyledText] = [StyledText("New group", .bold), ""]
        lines += AddContactOverlay.field("Name", prompt.name, active: prompt.field == .name, width: width, labelWidth: 9)
        lines += AddContactOverlay.field("Members", prompt.members, active: prompt.field == .members, width: width, labelWidth: 9)
        lines += StyledText("numbers separated by spaces; you are in it too", .dim).wrapped(to: width)
        if let error = prompt.error {
            lines.append("")
            lines += StyledText(error, .danger).wrapped(to: width)
        }
        let enter = prompt.field == .name ? "next" : "create"
        lines += ["", StyledText("Enter", .bold) + StyledText(" \(enter)   ") + StyledText("Esc", .bold) + " cancel"]
        return lines
    }
}

/// Adding a member to, or removing one from, the group of the call in progress; removal
/// lists the members, and ↑/↓ picks one.
enum GroupMemberOverlay {
    static func lines(_ prompt: GroupMemberPrompt, width: Int) -> [StyledText] {
        let title = prompt.action == .add ? "Add a member to # \(prompt.groupName)" : "Remove a member from # \(prompt.groupName)"
        var lines: [StyledText] = StyledText(title, .bold).wrapped(to: width) + [""]
        lines += AddContactOverlay.field("Number", prompt.number, active: true, width: width)
        for choice in prompt.choices.prefix(8) {
            let marker = choice.number == prompt.number ? StyledText("▸ ", .bold) : StyledText("  ")
            lines.append((marker + StyledText(choice.name.map { "\($0) (\(choice.number))" } ?? choice.number)).truncated(to: width))
        }
        lines += StyledText("everyone in the call then makes a new key", .dim).wrapped(to: width)
        if let error = prompt.error {
            lines.append("")
            lines += StyledText(error, .danger).wrapped(to: width)
        }
        var keys = StyledText("Enter", .bold) + StyledText(prompt.action == .add ? " add   " : " remove   ")
        if !prompt.choices.isEmpty { keys += StyledText("↑↓", .bold) + " pick   " }
        lines += ["", keys + StyledText("Esc", .bold) + " cancel"]
        return lines
    }
}
