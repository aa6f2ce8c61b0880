import Testing

@testable import DuetTUI

@Suite("Styled text")
struct StyledTextTests {
    @Test func truncationEndsInAnEllipsisAndKeepsTheWidth() {
        #expect(StyledText("abcdef").truncated(to: 4).string == "abc…")
        #expect(StyledText("abc").truncated(to: 3).string == "abc")
        #expect(StyledText("abc").truncated(to: 0).string == "")
        #expect(StyledText("abc").truncated(to: -2).string == "")
        #expect(StyledText("abc").padded(to: 5).string == "abc  ")
        #expect(StyledText("abc").rightAligned(to: 5).string == "  abc")
    }

    @Test func everyCharacterIsOneColumn() {
        #expect(StyledText("✓ ● ○ ▌ █ ░ ─ │ …").count == 17)
        #expect(StyledText("Zoë 🇫🇷 e\u{301}").count == 7)
    }

    @Test func unsafeCharactersBecomeSpaces() {
        #expect(StyledText("a\tb\nc\u{1B}[31m").string == "a b c [31m")
        #expect(StyledText("\u{202E}evil").string == " evil")
        #expect(StyledText("\u{301}x").string == " x")
        #expect(StyledText("zero\u{200B}width").string == "zero width")
        #expect(StyledText("\u{1F1E6}").string == " ")
    }

    @Test func wrappingBreaksAtSpacesAndKeepsStyles() {
        let text = StyledText("the key") + " " + .phrase("KEY CHANGED", .danger) + StyledText(" since yesterday")
        let lines = text.wrapped(to: 12)
        #expect(lines.map(\.string) == ["the key", "KEY CHANGED", "since", "yesterday"])
        #expect(lines[1].cells.allSatisfy { $0.style == .danger })
        #expect(StyledText("abcdefghij").wrapped(to: 4).map(\.string) == ["abcd", "efgh", "ij"])
        #expect(StyledText("").wrapped(to: 4).map(\.string) == [""])
        #expect(StyledText("a b").wrapped(to: 0).isEmpty)
    }

    @Test func runsMergeNeighboursOfTheSameStyle() {
        let line = (StyledText("ab", .bold) + StyledText("cd", .bold) + StyledText("e")).screenLine
        #expect(line.runs == [StyledRun("abcd", .bold), StyledRun("e", .plain)])
    }

    @Test func canvasClipsToItsEdges() {
        var canvas = Canvas(width: 5, height: 2)
        canvas.draw("hello world", row: 0, column: 1)
        canvas.draw("x", row: 5, column: 0)
        canvas.draw("y", row: 1, column: 9)
        canvas.fill(Rect(row: 1, column: 3, width: 10, height: 10), with: "#")
        #expect(canvas.screen.text == [" hel…", "   ##"])
    }

    @Test func numbersAreFormattedWithoutTheLocale() {
        #expect(TextFormat.oneDecimal(-20.14) == "-20.1")
        #expect(TextFormat.oneDecimal(3.95) == "4.0")
        #expect(TextFormat.oneDecimal(-0.04) == "0.0")
        #expect(TextFormat.oneDecimal(-.infinity) == "-inf")
        #expect(TextFormat.oneDecimal(.nan) == "?")
        #expect(TextFormat.timer(83) == "01:23")
        #expect(TextFormat.timer(4503) == "75:03")
        #expect(TextFormat.timer(-5) == "00:00")
    }
}
