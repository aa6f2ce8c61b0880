import Foundation
import Testing

/// The real `duet` terminal UI in tmux at 100×30, read with capture-pane.
@Suite("duet terminal UI in tmux", .serialized)
struct TerminalUITests {
    let home: URL

    init() {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-tui-\(UUID().uuidString)")
    }

    /// First run, nothing set up: an embedded server and bots; call Echo Test, hear yourself,
    /// hang up, verify by safety number, quit — and the next start flags the reinstalled bot.
    @Test func theFirstRunCallsEchoTestAndVerifiesAContact() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let tui = try TmuxSession(["--profile", "newcomer"], home: home)
        defer { tui.kill() }
        #expect(await tui.waitFor("Echo Test"), "\(tui.screen())")
        #expect(await tui.waitFor("(embedded)"))
        #expect(tui.screen().contains("Tone Alto") && tui.screen().contains("Tone Bass"))

        tui.send("c")  // Echo Test is the first contact
        #expect(await tui.waitFor("connected (p2p)"), "\(tui.screen())")
        #expect(await tui.waitFor("hearing you (+15550100)"), "\(tui.screen())")
        #expect(tui.screen().contains("SAS:"))
        tui.send("m")
        #expect(await tui.waitFor("MUTED"), "\(tui.screen())")
        tui.send("h")
        #expect(await tui.waitFor("ended: hung up"), "\(tui.screen())")
        tui.send("l")
        #expect(await tui.waitFor("keys wiped"), "\(tui.screen())")
        tui.send("l")

        tui.send("?")
        #expect(await tui.waitFor("hang up"), "\(tui.screen())")
        tui.send("Escape")
        tui.send("Escape", "j", "j", "s")  // Tone Bass's safety number
        #expect(await tui.waitFor("Safety number with Tone Bass"), "\(tui.screen())")
        tui.send("v")
        #expect(await tui.waitFor("verified ✓"), "\(tui.screen())")
        tui.send("q")
        #expect(await tui.waitForExit(), "\(tui.screen())")
        // xterm's alternate screen is left: the shell's own screen is back, with no UI on it.
        #expect(await tui.waitFor("duet exited with status 0"), "\(tui.screen())")
        #expect(!tui.screen().contains("Contacts"), "the terminal is restored: \(tui.screen())")

        // Tone Bass is reinstalled at every start: its new key is flagged.
        let again = try TmuxSession(["--profile", "newcomer"], home: home)
        defer { again.kill() }
        #expect(await again.waitFor("KEY CHANGED"), "\(again.screen())")
        again.send("j", "j", "c")
        #expect(await again.waitFor("Someone else may be answering"), "a warning before ringing: \(again.screen())")
        again.send("Escape")
        again.send("q")
        #expect(await again.waitForExit())
    }

    /// First run: ring the bots' group, Bot Choir; every bot joins and is heard by name in the
    /// group call pane, under the tiles of their pictures; hanging up leaves the call and the
    /// log shows the keys wiped.
    @Test func theFirstRunCallsTheBotChoir() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let tui = try TmuxSession(["--profile", "choir"], home: home)
        defer { tui.kill() }
        #expect(await tui.waitFor("Bot Choir"), "\(tui.screen())")
        tui.send("j", "j", "j")  // past Echo Test, Tone Alto and Tone Bass
        #expect(await tui.waitFor("c call group"), "\(tui.screen())")
        tui.send("c")
        #expect(await tui.waitFor("Group call · # Bot Choir"), "\(tui.screen())")
        #expect(await tui.waitFor("SFrame"), "\(tui.screen())")
        let bots = ["Echo Test", "Tone Alto", "Tone Bass"]
        let everyBotHeard = await tui.waitUntil { screen in
            // The call pane is right of the separator; the contact list left of it names the bots too.
            let pane = screen.split(separator: "\n").compactMap { $0.split(separator: "│", maxSplits: 1).dropFirst().first }
            return bots.allSatisfy { bot in
                pane.contains { $0.contains(bot) && $0.trimmingCharacters(in: .whitespaces).hasSuffix("hearing") }
            }
        }
        #expect(everyBotHeard, "\(tui.screen())")
        #expect(tui.screen().contains("epoch"))
        // The tiles (docs/video.md "Tiles"): the tone bots' pictures, "no picture" for the Echo
        // Test (it sends none in a group call), yours; V turns yours off.
        #expect(await tui.waitFor("no picture"), "\(tui.screen())")
        #expect(await tui.waitFor("V camera off"), "\(tui.screen())")
        tui.send("V")
        #expect(await tui.waitFor("V camera on"), "\(tui.screen())")
        #expect(tui.screen().contains("camera off"), "\(tui.screen())")
        tui.send("h")
        #expect(await tui.waitFor("keys wiped ✓"), "\(tui.screen())")
        tui.send("l")
        #expect(await tui.waitFor("group call keys wiped"), "\(tui.screen())")
        tui.send("q")
        #expect(await tui.waitForExit(), "\(tui.screen())")
    }

    /// Two people, two terminals, one `duet server`: Alice rings Bob, Bob accepts.
    @Test func twoTerminalsCallEachOtherThroughOneServer() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        defer { server.stop() }
        let duet = DuetCommandLine(home: home)
        for (profile, number, name) in [("alice", "+15554001", "Alice"), ("bob", "+15554002", "Bob")] {
            #expect(try duet.run(["register", number, "--profile", profile, "--server", server.signaling, "--name", name]).status == 0)
        }
        #expect(try duet.run(["contacts", "add", "+15554002", "--name", "Bob", "--profile", "alice"]).status == 0)
        #expect(try duet.run(["contacts", "add", "+15554001", "--name", "Alice", "--profile", "bob"]).status == 0)

        let alice = try TmuxSession(["--profile", "alice"], home: home)
        let bob = try TmuxSession(["--profile", "bob"], home: home)
        defer {
            alice.kill()
            bob.kill()
        }
        #expect(await alice.waitFor("Bob"), "\(alice.screen())")
        #expect(await bob.waitFor("Alice"), "\(bob.screen())")
        #expect(!alice.screen().contains("(embedded)"))

        alice.send("c")
        #expect(await bob.waitFor("Incoming call"), "\(bob.screen())")
        bob.send("a")
        #expect(await alice.waitFor("connected (p2p)"), "\(alice.screen())")
        #expect(await bob.waitFor("connected (p2p)"), "\(bob.screen())")
        #expect(await alice.waitFor("hearing Bob (+15554002)"), "\(alice.screen())")
        #expect(await bob.waitFor("hearing Alice (+15554001)"), "\(bob.screen())")
        bob.send("h")
        #expect(await alice.waitFor("ended: the other side hung up"), "\(alice.screen())")
        // The server goes away: the status bar says so, and the UI carries on.
        server.stop()
        #expect(await alice.waitFor("reconnecting"), "\(alice.screen())")
        alice.send("K")
        #expect(await alice.waitFor("One-time prekeys"), "\(alice.screen())")
        alice.send("q")
        bob.send("q")
        #expect(await alice.waitForExit())
        #expect(await bob.waitForExit())
    }

    /// Two terminals, one `duet server`: Alice makes a meeting, Bob pastes its link from
    /// Alice's screen and knocks, Alice admits him, each hears the other, Bob starts recording
    /// and both see REC, then Bob leaves and Alice ends the meeting.
    @Test func aMeetingMadeInOneTerminalIsJoinedByLinkFromAnother() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        defer { server.stop() }
        let duet = DuetCommandLine(home: home)
        for (profile, number, name) in [("alice", "+15554101", "Alice"), ("bob", "+15554102", "Bob")] {
            #expect(try duet.run(["register", number, "--profile", profile, "--server", server.signaling, "--name", name]).status == 0)
        }
        let alice = try TmuxSession(["--profile", "alice"], home: home)
        let bob = try TmuxSession(["--profile", "bob"], home: home)
        defer {
            alice.kill()
            bob.kill()
        }
        #expect(await alice.waitFor("n new meeting"), "\(alice.screen())")
        #expect(await bob.waitFor("J join link"), "\(bob.screen())")

        alice.send("n")
        #expect(await alice.waitFor("New meeting"), "\(alice.screen())")
        alice.send("Enter")
        #expect(await alice.waitFor("cloud-encrypted"), "\(alice.screen())")
        let pattern = /duet:\/\/[^\s│]+\/[a-z]{3}-[a-z]{4}-[a-z]{3}/
        #expect(await alice.waitUntil { $0.firstMatch(of: pattern) != nil }, "\(alice.screen())")
        let link = try #require(alice.screen().firstMatch(of: pattern).map { String($0.output) }, "no link: \(alice.screen())")

        bob.send("J")
        #expect(await bob.waitFor("Join a meeting"), "\(bob.screen())")
        bob.paste(link)
        bob.send("Enter")
        #expect(await bob.waitFor("waiting for the host"), "\(bob.screen())")
        #expect(await alice.waitFor("Knocking at"), "\(alice.screen())")
        #expect(alice.screen().contains("Bob"), "\(alice.screen())")
        alice.send("a")

        func hears(_ tui: TmuxSession, _ who: String) async -> Bool {
            await tui.waitUntil(timeout: .seconds(45)) { screen in
                let pane = screen.split(separator: "\n").compactMap { $0.split(separator: "│", maxSplits: 1).dropFirst().first }
                return pane.contains { $0.contains(who) && $0.trimmingCharacters(in: .whitespaces).hasSuffix("hearing") }
            }
        }
        #expect(await hears(alice, "Bob"), "\(alice.screen())")
        #expect(await hears(bob, "(host)"), "\(bob.screen())")
        #expect(!alice.screen().contains("end-to-end") && !bob.screen().contains("end-to-end"))

        bob.send("R")
        #expect(await bob.waitFor("● REC"), "\(bob.screen())")
        #expect(await alice.waitFor("● REC"), "\(alice.screen())")
        #expect(await alice.waitFor("R stop recording"), "\(alice.screen())")

        bob.send("h")
        #expect(await bob.waitFor("ended: left the meeting"), "\(bob.screen())")
        #expect(await alice.waitFor("nobody else yet"), "\(alice.screen())")
        alice.send("h")
        #expect(await alice.waitFor("ended: left the meeting"), "\(alice.screen())")
        #expect(await alice.waitFor("keys wiped ✓"), "\(alice.screen())")
        alice.send("q")
        bob.send("q")
        #expect(await alice.waitForExit())
        #expect(await bob.waitForExit())
    }

    /// Without colours, resized to 80×24 and back, the keys screen, then Ctrl-C: the
    /// screen stays whole and readable, and the process exits cleanly.
    @Test func resizesWorksWithoutColourAndCtrlCQuits() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let tui = try TmuxSession(["--profile", "plain"], home: home, term: "vt100")
        defer { tui.kill() }
        #expect(await tui.waitFor("Echo Test"), "\(tui.screen())")
        tui.send("K")
        #expect(await tui.waitFor("One-time prekeys"), "\(tui.screen())")
        tui.resize(width: 80, height: 24)
        // Repainted at the new size: the status bar on row one, no row wider than 80.
        let repainted = await tui.waitUntil { screen in
            let rows = screen.split(separator: "\n", omittingEmptySubsequences: false)
            return rows.first?.hasPrefix(" Duet") == true && rows.allSatisfy { $0.count <= 80 } && screen.contains("q quit")
        }
        #expect(repainted, "\(tui.screen())")
        tui.resize(width: 60, height: 20)
        #expect(await tui.waitFor("at least 80×24"), "\(tui.screen())")
        tui.resize(width: 120, height: 40)
        #expect(await tui.waitFor("Contacts"), "\(tui.screen())")
        tui.send("C-c")
        #expect(await tui.waitForExit(), "\(tui.screen())")
        // vt100 has no alternate screen, so the last frame stays; the shell's line follows it.
        #expect(await tui.waitFor("duet exited with status 0"), "\(tui.screen())")
    }

    /// A video call from the terminal UI (docs/video.md "In the terminal"): Tone Alto's scene
    /// drawn in the call pane in true colour with the self-view beside it, growing with the
    /// terminal; `V` turns the camera off and on; without colour (vt100) the Echo Test's
    /// picture — your own — is drawn in characters by brightness.
    @Test func aVideoCallDrawsThePictureAndTheSelfView() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        // The right pane's rows above the call's details (the level meter is made of blocks too).
        func pictureRows(_ screen: String) -> [Substring] {
            let pane = screen.split(separator: "\n").map { $0.split(separator: "│", maxSplits: 1).dropFirst().first ?? "" }
            return Array(pane.prefix { !$0.contains("Trust") })
        }
        func pictureCells(_ screen: String) -> Int {
            pictureRows(screen).reduce(0) { $0 + $1.unicodeScalars.filter { (0x2580...0x259F).contains($0.value) }.count }
        }
        // The self-view's label, at the end of a picture row.
        func selfView(_ screen: String, _ label: String) -> Bool { pictureRows(screen).contains { $0.hasSuffix("  \(label)") } }
        let tui = try TmuxSession(["--profile", "viewer"], home: home, term: "xterm-direct")
        defer { tui.kill() }
        #expect(await tui.waitFor("Tone Alto"), "\(tui.screen())")
        tui.send("j", "c")
        #expect(await tui.waitFor("connected (p2p)"), "\(tui.screen())")
        #expect(await tui.waitUntil { pictureCells($0) > 300 && selfView($0, "you") }, "\(tui.screen())")
        #expect(tui.screen(escapes: true).contains("38;2;"), "true colour under xterm-direct")
        let small = pictureCells(tui.screen())
        tui.resize(width: 160, height: 50)
        #expect(await tui.waitUntil { pictureCells($0) > small * 2 }, "the picture grows with the pane: \(tui.screen())")
        tui.send("V")
        #expect(await tui.waitUntil { selfView($0, "camera off") && $0.contains("V camera on") }, "\(tui.screen())")
        tui.send("V")
        #expect(await tui.waitUntil { selfView($0, "you") && $0.contains("V camera off") }, "\(tui.screen())")
        tui.send("h", "q")
        #expect(await tui.waitForExit(), "\(tui.screen())")

        let plain = try TmuxSession(["--profile", "viewer"], home: home, term: "vt100")
        defer { plain.kill() }
        #expect(await plain.waitFor("Echo Test"), "\(plain.screen())")
        plain.send("c")
        #expect(await plain.waitFor("connected (p2p)"), "\(plain.screen())")
        // Your own picture comes back: rows of the brightness ramp's characters, no blocks.
        let ramp = await plain.waitUntil { screen in pictureRows(screen).contains { $0.filter { "%#*+=".contains($0) }.count >= 8 } }
        #expect(ramp && pictureCells(plain.screen()) == 0, "\(plain.screen())")
        plain.send("h", "q")
        #expect(await plain.waitForExit(), "\(plain.screen())")
    }

    /// SIGTERM in the middle of a call: the call is hung up, the terminal restored, exit 0.
    @Test func sigtermDuringACallEndsCleanly() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let tui = try TmuxSession(["--profile", "term"], home: home)
        defer { tui.kill() }
        #expect(await tui.waitFor("Echo Test"), "\(tui.screen())")
        tui.send("c")
        #expect(await tui.waitFor("connected (p2p)"), "\(tui.screen())")
        let pid = try #require(Self.duetProcess(home: home), "no duet process for \(home.path)")
        kill(pid, SIGTERM)
        #expect(await tui.waitFor("duet exited with status 0"), "\(tui.screen())")
        #expect(!tui.screen().contains("Contacts"), "the terminal is restored: \(tui.screen())")
    }

    /// The `duet` process whose DUET_HOME is `home` (read from /proc, as the test started it
    /// through tmux and a shell).
    static func duetProcess(home: URL) -> pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = pid_t(entry),
                let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/exe"),
                executable.hasSuffix("/duet"),
                let environment = FileManager.default.contents(atPath: "/proc/\(entry)/environ")
            else { continue }
            if String(decoding: environment, as: UTF8.self).split(separator: "\0").contains("DUET_HOME=\(home.path)"[...]) { return pid }
        }
        return nil
    }
}
