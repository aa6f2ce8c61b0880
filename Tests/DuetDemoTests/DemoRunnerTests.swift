import Foundation
import Testing

@testable import DuetDemo

/// Stories played over a real server: an expectation that does not hold fails the run, names
/// its line and why, and the rest of the story is not run. (The whole tour is played through
/// the binary in duetTests.)
@Suite("Demo runner", .serialized)
struct DemoRunnerTests {
    @Test func aFailedExpectationEndsTheStoryAndSaysWhich() async throws {
        let script = try DemoScript(
            parsing: """
                devices alice bob
                register alice bob
                contacts alice bob
                call alice bob
                answer bob
                expect path alice relay   # it is p2p: this must fail
                hangup alice
                """, file: "failing.duet")
        var options = DemoRunOptions()
        options.checkTimeout = .seconds(2)
        let transcript = await DemoRunner(script: script, options: options).run()
        #expect(!transcript.passed)
        let failure = try #require(transcript.failure)
        #expect(failure.line == 6)
        #expect(failure.detail?.contains("not connected relay") == true, "\(failure)")
        #expect(transcript.steps.prefix(5).allSatisfy { $0.status == .passed }, "\(transcript.steps)")
        #expect(transcript.steps.last?.status == .skipped)
        #expect(transcript.summary.contains("FAILED at failing.duet:6: expect path alice relay"))
        // The call setup was still measured, and the JSON says what failed.
        #expect(transcript.timings["call_setup_p2p_ms"] != nil)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(transcript.json().utf8)) as? [String: Any])
        #expect(json["passed"] as? Bool == false)
        #expect((json["failure"] as? String)?.hasPrefix("line 6:") == true)
    }

    @Test func aStepThatCannotHappenFailsWithAReason() async throws {
        let script = try DemoScript(
            parsing: """
                devices alice bob
                register alice bob
                join bob
                """, file: "s.duet")
        var options = DemoRunOptions()
        options.checkTimeout = .seconds(2)
        let transcript = await DemoRunner(script: script, options: options).run()
        #expect(transcript.failure?.line == 3)
        #expect(transcript.failure?.detail == "bob is not rung for any group call")
    }

    @Test func aStoryStoppedEarlyIsNotAPass() {
        var transcript = DemoTranscript(script: "s.duet")
        transcript.record(
            .init(line: 1, command: "devices alice", status: .passed, isCheck: false, atMilliseconds: 0, milliseconds: 5, detail: nil))
        transcript.record(
            .init(line: 2, command: "register alice", status: .skipped, isCheck: false, atMilliseconds: 5, milliseconds: 0, detail: nil))
        #expect(!transcript.passed)
        #expect(transcript.failure == nil)
        #expect(transcript.summary.contains("STOPPED before s.duet:2: 0 checks held, the rest were not run"))
        #expect(transcript.json().contains("\"failure\" : \"stopped before line 2\""))
    }

    @Test func stepsPrintAsAReadableTranscript() {
        let step = DemoTranscript.Step(
            line: 4, command: "answer bob", status: .passed, isCheck: false, atMilliseconds: 4213,
            milliseconds: 83, detail: "connected p2p\nsecond line")
        #expect(
            step.lines == [
                "[  4.21 s] ✓ answer bob" + String(repeating: " ", count: 64 - 23 - 5) + "83 ms",
                "             connected p2p",
                "             second line"
            ])
        let narration = DemoTranscript.Step(
            line: 1, command: "say hi", status: .narration, isCheck: false, atMilliseconds: 5,
            milliseconds: 0, detail: "hi")
        #expect(narration.lines == ["", "[  0.00 s] ── hi"])
    }
}
