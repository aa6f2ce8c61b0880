/// The record a demo run prints: each step, whether it held, and how long it took
/// (DESIGN §7). Steps are appended as the story runs.
public struct DemoTranscript: Sendable {
    public struct Step: Sendable, Equatable {
        public let title: String
        public let passed: Bool
        public let milliseconds: Int
        public let detail: String?
    }

    public private(set) var steps: [Step] = []

    public init() {}

    public mutating func record(_ title: String, passed: Bool, milliseconds: Int, detail: String? = nil) {
        steps.append(Step(title: title, passed: passed, milliseconds: milliseconds, detail: detail))
    }

    /// True when every step held.
    public var passed: Bool { steps.allSatisfy(\.passed) }

    /// One line per step: `✓  120 ms  alice registers`.
    public var lines: [String] {
        steps.map { step in
            let mark = step.passed ? "✓" : "✗"
            let time = String(step.milliseconds)
            let pad = String(repeating: " ", count: max(0, 6 - time.count))
            return "\(mark) \(pad)\(time) ms  \(step.title)" + (step.detail.map { " — \($0)" } ?? "")
        }
    }
}
