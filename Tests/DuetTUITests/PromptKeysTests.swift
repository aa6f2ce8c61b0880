import Testing

@testable import DuetTUI

@Suite("Prompt keys")
struct PromptKeysTests {
    private func twoFields(_ number: String = "", _ name: String = "", focus: Int = 0) -> PromptKeys {
        PromptKeys(texts: [number, name], focus: focus, rules: [.number, .name])
    }

    @Test func escapeClosesAndEnterSubmitsWithoutTouchingTheText() {
        var keys = twoFields("+1", "Ann")
        #expect(keys.apply(.escape) == .close)
        #expect(keys.apply(.enter) == .submit)
        #expect(keys.texts == ["+1", "Ann"])
        #expect(keys.focus == 0)
    }

    @Test func charactersGoToTheFocusedFieldOnlyIfItAcceptsThem() {
        var keys = twoFields()
        for character in "+1a 2" { #expect(keys.apply(.character(character)) == .edited) }
        #expect(keys.texts == ["+12", ""])
        _ = keys.apply(.tab)
        for character in "Ann B" { _ = keys.apply(.character(character)) }
        _ = keys.apply(.character("\n"))
        #expect(keys.texts == ["+12", "Ann B"])
    }

    @Test func eachFieldStopsAtItsLimit() {
        var keys = twoFields(String(repeating: "1", count: 15), String(repeating: "x", count: 39))
        _ = keys.apply(.character("2"))
        _ = keys.apply(.character("3"))
        #expect(keys.texts[0].count == 16)
        #expect(keys.texts[0].hasSuffix("12"))
        keys.focus = 1
        _ = keys.apply(.character("y"))
        _ = keys.apply(.character("z"))
        #expect(keys.texts[1].count == 40)
        #expect(keys.texts[1].hasSuffix("xy"))

        var members = PromptKeys(texts: [String(repeating: "1", count: 199)], rules: [.numbers])
        _ = members.apply(.character(" "))
        _ = members.apply(.character("+"))
        #expect(members.texts[0].count == 200)
        #expect(members.texts[0].hasSuffix(" "))
    }

    @Test func tabCyclesTheFieldsAndIsANoOpWithOne() {
        var keys = twoFields()
        _ = keys.apply(.tab)
        #expect(keys.focus == 1)
        _ = keys.apply(.tab)
        #expect(keys.focus == 0)

        var single = PromptKeys(texts: ["+1"], rules: [.number])
        #expect(single.apply(.tab) == .edited)
        #expect(single.focus == 0)
        #expect(single.texts == ["+1"])
    }

    @Test func backspaceDeletesFromTheFocusedFieldOnly() {
        var keys = twoFields("+12", "Ann", focus: 1)
        _ = keys.apply(.backspace)
        #expect(keys.texts == ["+12", "An"])
        _ = keys.apply(.tab)
        _ = keys.apply(.backspace)
        #expect(keys.texts == ["+1", "An"])

        var empty = twoFields()
        #expect(empty.apply(.backspace) == .edited)
        #expect(empty.texts == ["", ""])
    }

    @Test func otherKeysChangeNothing() {
        var keys = twoFields("+1", "Ann", focus: 1)
        for key in [KeyPress.up, .down, .resize(width: 80, height: 24)] {
            #expect(keys.apply(key) == .edited)
        }
        #expect(keys.texts == ["+1", "Ann"])
        #expect(keys.focus == 1)
    }
}
