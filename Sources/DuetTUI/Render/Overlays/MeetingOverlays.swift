/// Making a meeting: two switches (open, recorded) and what a meeting is — cloud-encrypted,
/// so the server can access it.
enum CreateMeetingOverlay {
    static func lines(_ prompt: CreateMeetingPrompt, width: Int) -> [StyledText] {
        var lines: [StyledText] = [StyledText("New meeting", .bold), ""]
        lines += toggle("o", prompt.open, "open: anyone with the link comes straight in", width: width)
        lines += toggle("r", prompt.record, "record from the start (everyone sees REC)", width: width)
        lines.append("")
        lines += StyledText(
            "Meetings are cloud-encrypted: the server can access them. "
                + "Off, people knock and you let them in.", .dim
        ).wrapped(to: width)
        lines += [
            "",
            StyledText("Enter", .bold) + " create   " + StyledText("o r", .bold) + " switch   "
                + StyledText("Esc", .bold) + " cancel"
        ]
        return lines
    }

    /// "[x] o  open: …": the state in a mark and a word, never in colour alone.
    static func toggle(_ key: String, _ on: Bool, _ text: String, width: Int) -> [StyledText] {
        let mark = on ? StyledText("[x]", .bold) : StyledText("[ ]")
        return (mark + " " + StyledText(key, .bold) + "  " + StyledText(text)).wrapped(to: width)
    }
}

/// Knocking with a pasted link; Tab reaches the name others see.
enum JoinMeetingOverlay {
    static func lines(_ prompt: JoinMeetingPrompt, width: Int) -> [StyledText] {
        var lines: [StyledText] = [StyledText("Join a meeting", .bold), ""]
        lines += AddContactOverlay.field("Link", prompt.link, active: prompt.field == .link, width: width, labelWidth: 6)
        lines += AddContactOverlay.field("Name", prompt.name, active: prompt.field == .name, width: width, labelWidth: 6)
        lines += StyledText("paste duet://HOST:PORT/abc-defg-hij; the host lets you in", .dim).wrapped(to: width)
        if let error = prompt.error {
            lines.append("")
            lines += StyledText(error, .danger).wrapped(to: width)
        }
        lines += [
            "",
            StyledText("Enter", .bold) + " knock   " + StyledText("Tab", .bold) + " other field   "
                + StyledText("Esc", .bold) + " cancel"
        ]
        return lines
    }
}

/// The host's box: who knocks (their name, and whether they are a guest or which number),
/// and the answers.
enum KnockOverlay {
    static func lines(_ prompt: KnockPrompt, width: Int) -> [StyledText] {
        var lines: [StyledText] = [StyledText("Knocking at \(prompt.code)", .bold), ""]
        lines += StyledText(prompt.knocker.guest ? prompt.knocker.name : prompt.knocker.contactName ?? prompt.knocker.name, .bold)
            .wrapped(to: width)
        lines += StyledText(prompt.knocker.who).wrapped(to: width)
        if !prompt.othersWaiting.isEmpty {
            lines += StyledText("also waiting: " + prompt.othersWaiting.joined(separator: ", "), .dim).wrapped(to: width)
        }
        lines += [
            "",
            StyledText("a", .bold) + " admit   " + StyledText("d", .bold) + " deny   "
                + StyledText("Esc", .bold) + " later"
        ]
        return lines
    }
}
