import Foundation

/// The record a demo run prints (docs/demo.md): each line of the script, whether it held, when
/// it ran, how long it took, what was seen, and the timings measured on the way. Steps are
/// appended as the story runs; a failed step ends the run and the rest are listed as not run.
public struct DemoTranscript: Sendable, Codable, Equatable {
    /// How a step ended.
    public enum Status: String, Sendable, Codable, Equatable {
        /// An action that happened, or an expectation that held.
        case passed
        case failed
        /// Not run, because an earlier step failed.
        case skipped
        /// A `say` line.
        case narration
    }

    /// One line of the script as it ran.
    public struct Step: Sendable, Codable, Equatable {
        public let line: Int
        public let command: String
        public let status: Status
        /// Whether the line was an `expect` (a check), rather than an action.
        public let isCheck: Bool
        /// Milliseconds from the start of the run to the start of this step.
        public let atMilliseconds: Int
        public let milliseconds: Int
        /// What was seen: the evidence for a check, the reason for a failure.
        public let detail: String?
        /// Figures measured by this step, e.g. `call_setup_p2p_ms`.
        public let timings: [String: Int]

        public init(
            line: Int, command: String, status: Status, isCheck: Bool, atMilliseconds: Int, milliseconds: Int,
            detail: String?, timings: [String: Int] = [:]
        ) {
            self.line = line
            self.command = command
            self.status = status
            self.isCheck = isCheck
            self.atMilliseconds = atMilliseconds
            self.milliseconds = milliseconds
            self.detail = detail
            self.timings = timings
        }
    }

    public let script: String
    public private(set) var steps: [Step] = []
    /// Milliseconds the whole run took, set when it ends.
    public var totalMilliseconds = 0

    public init(script: String) { self.script = script }

    public mutating func record(_ step: Step) { steps.append(step) }

    /// True when every step ran and none failed (a story stopped early did not pass).
    public var passed: Bool { !steps.contains { $0.status == .failed || $0.status == .skipped } }

    /// The first step not run when no step failed: the story was stopped there.
    public var stoppedAt: Step? { failure == nil ? steps.first { $0.status == .skipped } : nil }

    /// Every timing of the run; a name measured twice keeps the last value.
    public var timings: [String: Int] {
        steps.reduce(into: [:]) { all, step in all.merge(step.timings) { $1 } }
    }

    public var failure: Step? { steps.first { $0.status == .failed } }

    /// The run as JSON for CI (`duet demo --json`): steps, timings and the outcome.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let report = Report(
            script: script, passed: passed, totalMilliseconds: totalMilliseconds, timings: timings,
            checks: steps.filter(\.isCheck).count,
            failure: failure.map { "line \($0.line): \($0.detail ?? $0.command)" } ?? stoppedAt.map { "stopped before line \($0.line)" },
            steps: steps)
        return (try? encoder.encode(report)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    private struct Report: Encodable {
        let script: String
        let passed: Bool
        let totalMilliseconds: Int
        let timings: [String: Int]
        let checks: Int
        let failure: String?
        let steps: [Step]
    }
}

extension DemoTranscript.Step {
    /// The step as the transcript prints it: a header line, then its detail indented.
    ///
    ///     [  4.21 s] ✓ answer bob                                  83 ms
    ///                connected p2p; call setup 81 ms (dial → first audio both ways)
    public var lines: [String] {
        let at = "[\(Self.seconds(atMilliseconds))]"
        let indent = String(repeating: " ", count: at.count + 3)
        switch status {
        case .narration:
            return ["", "\(at) ── \(detail ?? command)"]
        case .skipped:
            return ["\(at) · \(command)   (not run)"]
        case .passed, .failed:
            let mark = status == .passed ? "✓" : "✗"
            let head = "\(at) \(mark) \(command)"
            let time = "\(milliseconds) ms"
            let pad = String(repeating: " ", count: max(1, 64 - head.count - time.count))
            var lines = [head + pad + time]
            for part in (detail ?? "").split(separator: "\n") { lines.append(indent + part) }
            if status == .failed { lines.append(indent + "FAILED at line \(line)") }
            return lines
        }
    }

    /// `  4.21 s`: seconds with two decimals, written by hand so no locale changes it.
    static func seconds(_ milliseconds: Int) -> String {
        let hundredths = milliseconds / 10
        let text = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100) s"
        return String(repeating: " ", count: max(0, 8 - text.count)) + text
    }
}

extension DemoTranscript {
    /// The closing lines: the outcome, how many checks held, and the timings.
    public var summary: [String] {
        let checks = steps.filter { $0.isCheck && $0.status == .passed }.count
        let total = Step.seconds(totalMilliseconds).trimmingCharacters(in: .whitespaces)
        var lines = [""]
        if let failure {
            lines.append("FAILED at \(script):\(failure.line): \(failure.command)")
            if let detail = failure.detail { lines.append("  " + detail.replacingOccurrences(of: "\n", with: "\n  ")) }
        } else if let stoppedAt {
            lines.append("STOPPED before \(script):\(stoppedAt.line): \(checks) checks held, the rest were not run")
        } else {
            lines.append("PASSED: \(steps.filter { $0.status == .passed }.count) steps, \(checks) checks held, in \(total)")
        }
        let figures = timings.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        if !figures.isEmpty { lines.append("timings: " + figures.joined(separator: " · ")) }
        return lines
    }
}
