import DuetTUI
import Testing

@Suite("Screen model")
struct ScreenModelTests {
    @Test func textJoinsTheRunsOfEachLine() {
        let model = ScreenModel(width: 10, height: 2, lines: [ScreenLine([StyledRun("ab", .bold), StyledRun("cd")]), ScreenLine("ef")])
        #expect(model.text == ["abcd", "ef"])
    }
}
