import Testing

@testable import DuetDemo

/// The script language (docs/demo.md "The script language"): parsed and checked whole before anything runs, and
/// every refusal names its line and what is wrong.
@Suite("Demo scripts")
struct DemoScriptTests {
    static let prelude = "devices alice bob carol\nregister alice bob carol\n"

    /// The error `text` is refused with.
    static func refusal(_ text: String) -> DemoScriptError? {
        do {
            _ = try DemoScript(parsing: text, file: "story.duet")
            return nil
        } catch {
            return error
        }
    }

    @Test func theBuiltInTourParses() throws {
        let tour = try DemoScript(parsing: DemoStories.tour, file: "tour.duet")
        #expect(tour.steps.count > 50)
        #expect(
            tour.steps.first?.command == .say("Four people install Duet: keys are made on each device; the server gets only public halves"))
        let checks = tour.steps.filter { if case .expect = $0.command { true } else { false } }
        #expect(checks.count >= 25)
        #expect(tour.steps.contains { $0.command == .groupCall(caller: "alice", group: "team") })
        #expect(tour.steps.contains { $0.command == .call(caller: "bob", callee: "alice", relay: true) })
    }

    @Test func commentsQuotesAndBlankLinesAreUnderstood() throws {
        let script = try DemoScript(
            parsing: """
                # a story

                say "a # inside quotes"   # and a comment after
                devices alice=+15550101 bob
                wait 500ms
                wait 1.5s
                """, file: "s.duet")
        #expect(script.steps.map(\.line) == [3, 4, 5, 6])
        #expect(script.steps[0].command == .say("a # inside quotes"))
        #expect(script.steps[1].command == .devices([.init(name: "alice", number: "+15550101"), .init(name: "bob", number: nil)]))
        #expect(script.steps[2].command == .wait(.milliseconds(500)))
        #expect(script.steps[3].command == .wait(.milliseconds(1500)))
        #expect(script.steps[0].text == "say \"a # inside quotes\"")
    }

    @Test func windowsLineEndingsAreLines() throws {
        let script = try DemoScript(parsing: "devices alice bob\r\nregister alice bob\r\n\r\ncontacts alice bob\r\n", file: "crlf.duet")
        #expect(script.steps.map(\.line) == [1, 2, 4])
        #expect(script.steps[2].command == .contacts(["alice", "bob"]))
    }

    @Test func anUnknownCommandIsRefusedWithItsLine() throws {
        let error = try #require(Self.refusal(Self.prelude + "cal alice bob\n"))
        #expect(error.line == 3)
        #expect(error.message.contains("unknown command 'cal'"))
        #expect(error.description.hasPrefix("story.duet:3: "))
    }

    @Test(arguments: [
        ("wait 2x", "'2x' is not a duration"),
        ("wait 11m", "not a duration"),
        ("expect path alice sideways", "expect path NAME p2p"),
        ("expect ciphertext everywhere", "expect ciphertext relay"),
        ("expect teleports alice", "unknown check 'teleports'"),
        ("expect", "say what"),
        ("call alice", "call CALLER CALLEE"),
        ("call alice bob loudly", "call CALLER CALLEE [relay]"),
        ("verify alice alice", "two different devices"),
        ("meeting create alice loud", "'loud' is not a switch"),
        ("meeting record alice maybe", "meeting record NAME on"),
        ("devices dave=12345", "'12345' is not a phone number"),
        ("devices 9lives", "'9lives' is not a name"),
        ("say", "say: give the text"),
        ("say \"never closed", "a quote is not closed"),
        ("export now", "export takes no arguments"),
        ("group rename team", "group create GROUP OWNER")
    ])
    func aBadArgumentIsRefusedWithItsLine(line: String, message: String) throws {
        let error = try #require(Self.refusal(Self.prelude + line + "\n"), "'\(line)' was accepted")
        #expect(error.line == 3, "\(error)")
        #expect(error.message.contains(message), "\(error)")
    }

    @Test(arguments: [
        ("call alice eve", "'eve' is not a device of this script"),
        ("devices bob", "'bob' is already a device"),
        ("devices dan=+15550101\ndevices erin=+15550101", "+15550101 is given twice"),
        ("guests gus\nregister gus", "guests join meetings without registering"),
        ("devices dan\ncall alice dan", "dan is not registered yet"),
        ("meeting join alice", "there is no meeting yet"),
        ("expect recording alice", "there is no meeting yet"),
        ("call alice team", "'team' is not a device"),
        ("group create team alice bob\ncall alice team relay", "'relay' is for 1:1 calls"),
        ("group create team alice alice", "list only the other members"),
        ("group add crew bob", "'crew' is not a group"),
        ("expect hears alice alice", "does not hear itself")
    ])
    func namesMustBeDeclaredBeforeUse(lines: String, message: String) throws {
        let error = try #require(Self.refusal(Self.prelude + lines + "\n"), "'\(lines)' was accepted")
        #expect(error.line == 2 + lines.split(separator: "\n").count, "\(error)")
        #expect(error.message.contains(message), "\(error)")
    }

    @Test func callingAGroupIsAGroupCall() throws {
        let script = try DemoScript(
            parsing: Self.prelude + "group create team alice bob\ncall alice team\ncall alice bob relay\n", file: "s.duet")
        #expect(script.steps[3].command == .groupCall(caller: "alice", group: "team"))
        #expect(script.steps[4].command == .call(caller: "alice", callee: "bob", relay: true))
    }

    @Test func anEmptyScriptIsRefused() {
        #expect(Self.refusal("# nothing but a comment\n\n")?.message == "the script has no commands")
    }
}
