/// The lower part of the right pane when the log is on: a rule with the title, then the newest
/// entries that fit, oldest at the top, so the latest event is always just above the message line.
enum EventLogView {
    static func draw(_ log: [LogEntry], in rect: Rect, separatorColumn: Int, on canvas: inout Canvas) {
        guard rect.height > 0 else { return }
        // The rule joins the pane separator: "├─ Event log ─────".
        canvas.draw("├", row: rect.row, column: separatorColumn)
        let rule = "─ " + StyledText("Event log", .bold) + " "
        canvas.draw(
            rule + StyledText(String(repeating: "─", count: max(0, rect.width - rule.count))),
            row: rect.row, column: rect.column, width: rect.width)
        let body = Rect(row: rect.row + 1, column: rect.column + 1, width: rect.width - 2, height: rect.height - 1)
        canvas.draw(lines(log, rows: body.height), in: body)
    }

    /// The newest `rows` entries as "{time} {text}", each in its severity's style.
    static func lines(_ log: [LogEntry], rows: Int) -> [StyledText] {
        guard !log.isEmpty else { return [StyledText("No events yet.", .dim)] }
        return log.suffix(max(0, rows)).map {
            StyledText($0.time, .dim) + " " + StyledText($0.text, TextFormat.style($0.severity))
        }
    }
}
