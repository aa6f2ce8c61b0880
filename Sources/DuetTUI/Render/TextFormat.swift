import DuetClient

/// Numbers and shared phrases as the screens write them. Written by hand rather than with
/// Foundation's formatters so the output never depends on the user's locale.
enum TextFormat {
    /// One decimal: "-20.1", "3.9", "-inf" (as the headless commands write it).
    static func oneDecimal(_ value: Double) -> String { HearingReport.oneDecimal(value) }

    /// "mm:ss"; minutes keep counting past 59 ("75:03").
    static func timer(_ seconds: Int) -> String {
        let seconds = max(0, seconds)
        let minutes = seconds / 60, rest = seconds % 60
        return (minutes < 10 ? "0" : "") + "\(minutes):" + (rest < 10 ? "0" : "") + "\(rest)"
    }

    /// The style a message or log line of `severity` is written in.
    static func style(_ severity: Severity) -> TextStyle {
        switch severity {
        case .info: .plain
        case .good: .good
        case .warning: .warning
        case .error: .danger
        }
    }

    /// The trust state in words, never in colour alone: "✓ verified" (.good), "unverified"
    /// (plain), "KEY CHANGED" (.danger, which the painter makes bold as well as red).
    static func trust(_ trust: ContactTrust) -> StyledText {
        switch trust {
        case .verified: .phrase("✓ verified", .good)
        case .unverified: .phrase("unverified", .plain)
        case .keyChanged: .phrase("KEY CHANGED", .danger)
        }
    }

    /// "label     value" with the value wrapped under itself, for the detail panes.
    static func labelled(_ label: String, _ value: StyledText, labelWidth: Int, width: Int) -> [StyledText] {
        let valueWidth = width - labelWidth
        guard valueWidth >= 8 else { return [StyledText(label, .bold)] + value.wrapped(to: width) }
        return value.wrapped(to: valueWidth).enumerated().map { index, line in
            (index == 0 ? StyledText(label).padded(to: labelWidth) : .spaces(labelWidth)) + line
        }
    }
}
