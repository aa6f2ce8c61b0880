import DuetFuzzing
import Testing

@testable import DuetDemo

/// `duet demo --script FILE` reads a file a user wrote, typos and all. Mutations of the
/// built-in tour — lines dropped, repeated or swapped, words replaced by other words of the
/// language or by odd text (quotes, comments, durations at their limits, other newlines,
/// combining marks), bytes flipped — must parse, or be refused with a `DemoScriptError` naming
/// a line of the file. What parses reads the same again from the text its steps print.
@Suite("Demo script fuzz")
struct DemoScriptFuzzTests {
    static let tour = DemoStories.tour.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
    static let vocabulary =
        Array(Set(tour.flatMap { $0.split(separator: " ").map(String.init) })).sorted() + [
            "\"", "\"\"", "#", "=", "alice=+15550101", "dave=+1", "x=+1234567890123456", "=+15550101", "relay", "p2p", "sfu",
            "0s", "600s", "600.0001s", "0.0004ms", "-1s", "1e309s", "nans", "infs", "0x10s", "s", "ms", "2m", "1.5s",
            "é", "e\u{301}", "\u{301}", "\t", "\r", "\u{2028}", "\u{85}", "\u{0B}", "😀", "\u{202E}", "\u{0}", "a\"b c\"d", "9lives", "-",
            "_"
        ]

    @Test func mutatedToursParseOrNameTheirLine() {
        let bytes = Mutator(maximumStack: 2)
        let report = FuzzTarget("demo scripts", defaultIterations: 600, cost: 10).run(
            { random in
                var lines = Self.tour
                for _ in 0..<Int.random(in: 1...3, using: &random) { Self.mutate(&lines, using: &random) }
                let text = Array(lines.joined(separator: Bool.random(using: &random) ? "\n" : "\r\n").utf8)
                return Int.random(in: 0..<4, using: &random) == 0 ? bytes.mutate([text], using: &random) : text
            },
            property: { input, _ in
                let text = String(decoding: input, as: UTF8.self)
                let lineCount = max(1, text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count)
                let script: DemoScript
                do throws(DemoScriptError) { script = try DemoScript(parsing: text, file: "fuzz.duet") } catch {
                    try ensure(
                        error.file == "fuzz.duet" && (1...lineCount).contains(error.line) && !error.message.isEmpty,
                        "refused at line \(error.line) of \(lineCount): \(error)")
                    return .rejected
                }
                let lines = script.steps.map(\.line)
                try ensure(
                    !lines.isEmpty && zip(lines, lines.dropFirst()).allSatisfy { $0 < $1 }
                        && lines.allSatisfy { (1...lineCount).contains($0) },
                    "step lines \(lines) outside 1...\(lineCount) or out of order")
                let again: DemoScript
                do { again = try DemoScript(parsing: script.steps.map(\.text).joined(separator: "\n"), file: "again.duet") } catch {
                    throw FuzzViolation("the steps' own text does not parse again: \(error)")
                }
                try ensure(again.steps.map(\.command) == script.steps.map(\.command), "the steps' own text reads as other commands")
                return .accepted
            })
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    /// One line- or word-level change.
    static func mutate<R: RandomNumberGenerator>(_ lines: inout [String], using random: inout R) {
        guard !lines.isEmpty else {
            lines = [vocabulary.randomElement(using: &random)!]
            return
        }
        let at = Int.random(in: lines.indices, using: &random)
        switch Int.random(in: 0..<8, using: &random) {
        case 0: lines.remove(at: at)
        case 1: lines.insert(lines[at], at: Int.random(in: 0...lines.count, using: &random))
        case 2: lines.swapAt(at, Int.random(in: lines.indices, using: &random))
        case 3: lines.removeLast(Int.random(in: 0...(lines.count - at), using: &random))
        default:
            var words = lines[at].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            let word = Int.random(in: 0...words.count, using: &random)
            let replacement = vocabulary.randomElement(using: &random)!
            switch Int.random(in: 0..<3, using: &random) {
            case 0 where word < words.count: words[word] = replacement
            case 1 where word < words.count: words.remove(at: word)
            default: words.insert(replacement, at: word)
            }
            lines[at] = words.joined(separator: Bool.random(using: &random) ? " " : "")
        }
    }
}
