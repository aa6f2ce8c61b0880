import Foundation

/// `make check` runs the suite under AddressSanitizer and ThreadSanitizer with DUET_SANITIZER
/// set (docs/sanitizers.md). Instrumented debug `duet` processes run 2–20× slower, so a test
/// whose child processes talk in real time for a fixed call length gives them longer calls:
/// the assertions stay the same, only the time to meet them grows.
enum Sanitizer {
    static let active = ProcessInfo.processInfo.environment["DUET_SANITIZER"] != nil

    /// `--duration` for a real-time call between duet processes: `seconds`, or 4× that when sanitized.
    static func callDuration(seconds: Int) -> String { "\(active ? seconds * 4 : seconds)s" }
}
