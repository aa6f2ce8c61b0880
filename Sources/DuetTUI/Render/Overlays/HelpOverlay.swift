/// Every key and what it does, grouped by where it works, in two columns so the whole list
/// fits an 80×24 terminal.
enum HelpOverlay {
    static let width = 72

    /// A titled group of keys.
    struct Group: Sendable {
        var title: String
        var keys: [(key: String, action: String)]
    }

    static let left = [
        Group(
            title: "Contacts",
            keys: [
                ("↑/↓ j/k", "move"), ("Enter i", "details"), ("c", "call contact / group"), ("s", "safety number"),
                ("v / u", "verify / unverify"), ("a / d", "add / remove contact"), ("g", "new group"), ("K", "your keys"),
                ("H", "call history")
            ]),
        Group(
            title: "Meeting (cloud-encrypted)",
            keys: [
                ("n", "new meeting (a link)"), ("J", "join: paste a link"), ("R", "start / stop recording")
            ])
    ]

    static let right = [
        Group(
            title: "Call",
            keys: [
                ("m", "mute / unmute"), ("V", "camera off / on"), ("h", "hang up / leave"),
                ("+ / -", "add/remove group member")
            ]),
        Group(title: "Ringing or knocking", keys: [("a", "accept / join / admit"), ("d", "decline / deny")]),
        Group(
            title: "Everywhere",
            keys: [
                ("l", "toggle event log"), ("Esc", "close / back"), ("?", "this help"), ("q", "quit (hangs up first)")
            ])
    ]

    static func lines(width: Int) -> [StyledText] {
        let columnWidth = (width - 2) / 2
        let leftLines = column(left, width: columnWidth), rightLines = column(right, width: columnWidth)
        var lines: [StyledText] = [StyledText("Help — keys", .bold), ""]
        for index in 0..<max(leftLines.count, rightLines.count) {
            let leftLine = index < leftLines.count ? leftLines[index] : StyledText()
            let rightLine = index < rightLines.count ? rightLines[index] : StyledText()
            lines.append(leftLine.padded(to: columnWidth) + "  " + rightLine.truncated(to: columnWidth))
        }
        return lines
    }

    /// Groups one under another, a blank line between them; the actions line up two columns
    /// after the column's longest key.
    static func column(_ groups: [Group], width: Int) -> [StyledText] {
        let keyWidth = (groups.flatMap { $0.keys.map(\.key.count) }.max() ?? 0) + 2
        var lines: [StyledText] = []
        for group in groups {
            if !lines.isEmpty { lines.append("") }
            lines.append(StyledText(group.title, .bold))
            for (key, action) in group.keys {
                lines.append(("  " + StyledText(key, .bold).padded(to: keyWidth) + StyledText(action)).truncated(to: width))
            }
        }
        return lines
    }
}
