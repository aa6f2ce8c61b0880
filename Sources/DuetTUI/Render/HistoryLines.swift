import DuetClient
import Foundation

/// The call history as text (docs/history.md), one line per record: `duet history` prints these
/// and the TUI's history pane draws them. When, which way, who, how it ended, how long, over
/// which path, verified or not; a missed call starts with `!`.
public enum HistoryLines {
    public static func lines(_ records: [CallRecord], timeZone: TimeZone = .current) -> [String] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return records.map { line($0, formatter) }
    }

    private static func line(_ record: CallRecord, _ formatter: DateFormatter) -> String {
        let arrow = record.direction == .outgoing ? "→" : "←"
        let kind = record.kind == .call ? "" : "\(record.kind.rawValue) "
        var parts = [
            record.outcome == .missed ? "!" : " ", formatter.string(from: record.startedAt), arrow, "\(kind)\(record.who)",
            record.outcome?.rawValue ?? "unfinished"
        ]
        if let duration = record.duration { parts.append(Self.duration(duration)) }
        if let path = record.path { parts.append(path) }
        if record.kind == .call, record.outcome == .answered { parts.append(record.verified ? "verified" : "unverified") }
        return parts.joined(separator: " ")
    }

    /// `m:ss`, or `h:mm:ss` past an hour.
    public static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(seconds.rounded())
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }
}

/// The right pane for the call history (`H`): the newest calls first, missed ones marked.
enum HistoryPaneView {
    static func lines(_ state: TUIState, width: Int) -> [StyledText] {
        var lines: [StyledText] = [StyledText("Call history", .bold), ""]
        guard let history = state.history, !history.isEmpty else {
            return lines + StyledText("No calls yet. Calls, group calls and meetings are listed here, newest first.").wrapped(to: width)
        }
        for line in history {
            // The pane marks a missed call by its colour too, so the others need no gutter.
            let missed = line.hasPrefix("!")
            lines += StyledText(missed ? line : String(line.drop { $0 == " " }), missed ? .warning : .plain).wrapped(to: width)
        }
        return lines
    }
}
