import Foundation
import Testing

/// `duet demo` through the binary (docs/demo.md): the default story passes headless with its
/// timings in JSON; bad scripts are refused before anything runs; a failed expectation exits
/// non-zero and says which; `--tui` plays a story on a device's screen.
@Suite("duet demo", .serialized)
struct DemoCommandTests {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-demo-test-\(UUID().uuidString.prefix(8))")
    var duet: DuetCommandLine { DuetCommandLine(home: home) }

    func write(_ script: String, named name: String) throws -> String {
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let url = home.appendingPathComponent(name)
        try script.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func theTourPassesWithEveryCheckAndItsTimingsInJSON() throws {
        // Its own temporary directory, to see that the demo leaves nothing behind in it.
        let scratch = home.appendingPathComponent("tmp", isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let result = try duet.run(["demo", "--json"], environment: ["TMPDIR": scratch.path])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(json["passed"] as? Bool == true, "\(json["failure"] ?? "")")
        #expect((json["checks"] as? Int ?? 0) >= 25)
        let timings = try #require(json["timings"] as? [String: Int])
        for name in ["call_setup_p2p_ms", "call_setup_relay_ms", "rekey_add_ms", "rekey_leave_ms"] {
            #expect(timings[name] != nil, "\(name) missing from \(timings)")
        }
        let steps = try #require(json["steps"] as? [[String: Any]])
        #expect(steps.allSatisfy { ["passed", "narration"].contains($0["status"] as? String) })
        let commands = steps.compactMap { $0["command"] as? String }
        for check in [
            "expect ciphertext relay", "expect ciphertext sfu", "expect sas alice bob", "expect rekey alice carol dave",
            "expect recording alice gus", "verify alice bob"
        ] {
            #expect(commands.contains(check), "the tour lacks '\(check)'")
        }
        // The world was removed: nothing is left in the temporary directory.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func aBadScriptIsRefusedBeforeAnythingRuns() throws {
        let path = try write("devices alice bob\ncal alice bob\n", named: "bad.duet")
        let result = try duet.run(["demo", "--script", path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("bad.duet:2: unknown command 'cal'"), "\(result.stderr)")
        #expect(!result.stdout.contains("devices alice bob"), "a step ran: \(result.stdout)")
    }

    @Test func aFailedExpectationExitsNonZeroAndSaysWhich() throws {
        let path = try write(
            """
            devices alice bob
            register alice bob
            expect path alice p2p   # no call: fails at once
            contacts alice bob
            """, named: "failing.duet")
        let result = try duet.run(["demo", "--script", path])
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("FAILED at failing.duet:3: expect path alice p2p"), "\(result.stdout)")
        #expect(result.stdout.contains("alice's call is idle, not connected p2p"), "\(result.stdout)")
        #expect(result.stdout.contains("contacts alice bob   (not run)"), "\(result.stdout)")
    }

    @Test func theTUIPlaysAStoryOnADevicesScreen() async throws {
        let path = try write(
            """
            say "a short story"
            devices alice bob
            register alice bob
            contacts alice bob
            call bob alice
            answer alice
            expect hears alice bob
            hangup bob
            expect wiped alice bob
            """, named: "short.duet")
        let tui = try TmuxSession(
            ["demo", "--tui", "--speed", "10", "--view", "alice", "--script", path], home: home, width: 120, height: 34)
        defer { tui.kill() }
        #expect(await tui.waitFor("the story is over", timeout: .seconds(60)), "\(tui.screen())")
        let screen = tui.screen()
        #expect(screen.contains("demo: alice"), "\(screen)")  // alice's own screen
        #expect(screen.contains("Call with Bob"), "\(screen)")  // the call pane the story drove
        #expect(screen.contains("✓ expect wiped alice bob"), "\(screen)")  // the narrated checks
        #expect(screen.contains("PASSED"), "\(screen)")
        tui.send("q")
        #expect(await tui.waitFor("duet exited with status 0"), "\(tui.screen())")
    }
}
