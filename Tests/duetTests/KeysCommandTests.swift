import Foundation
import Testing

@Suite("duet keys")
struct KeysCommandTests {
    let home: URL
    let duet: DuetCommandLine

    init() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-cli-\(UUID().uuidString)")
        duet = DuetCommandLine(home: home)
    }

    @Test func initThenShowPrintsAFingerprintAnd100OneTimePrekeys() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let made = try duet.run(["--profile", "alice", "keys", "init"])
        #expect(made.status == 0, "\(made.stderr)")
        let shown = try duet.run(["--profile", "alice", "keys", "show"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("one-time prekeys: 100"))
        let fingerprint = try #require(shown.stdout.split(separator: "\n").first { $0.contains("identity:") })
        #expect(fingerprint.split(separator: ":").last!.split(separator: " ").count == 8)
        #expect(made.stdout.contains(fingerprint.split(separator: ": ").last!))
        // The option also works after the subcommand.
        #expect(try duet.run(["keys", "show", "--profile", "alice"]).stdout == shown.stdout)
    }

    @Test func initTwiceKeepsTheIdentity() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        _ = try duet.run(["--profile", "bob", "keys", "init"])
        let before = try duet.run(["--profile", "bob", "keys", "show"]).stdout
        let again = try duet.run(["--profile", "bob", "keys", "init"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("already exists"))
        #expect(try duet.run(["--profile", "bob", "keys", "show"]).stdout == before)
    }

    @Test func showWithoutKeysSaysWhatToDo() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let result = try duet.run(["--profile", "nobody", "keys", "show"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("duet keys init"))
    }

    @Test func sealedProfileNeedsItsPassphrase() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        #expect(try duet.run(["--profile", "s", "keys", "init"], environment: ["DUET_PASSPHRASE": "pw"]).status == 0)
        let missing = try duet.run(["--profile", "s", "keys", "show"])
        #expect(missing.status != 0 && missing.stderr.contains("DUET_PASSPHRASE"))
        let wrong = try duet.run(["--profile", "s", "keys", "show"], environment: ["DUET_PASSPHRASE": "nope"])
        #expect(wrong.status != 0 && wrong.stderr.contains("does not open"))
        let right = try duet.run(["--profile", "s", "keys", "show"], environment: ["DUET_PASSPHRASE": "pw"])
        #expect(right.status == 0 && right.stdout.contains("sealed: yes"))
    }

    /// At a terminal: `keys seal` asks for a new passphrase twice, without echo, and seals the
    /// profile; from then on opening it asks for the passphrase (never shown), and a wrong one
    /// is refused. A person at the keyboard, through tmux.
    @Test func aProfileIsSealedAndOpenedWithAPassphraseTypedAtTheTerminal() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        #expect(try duet.run(["--profile", "t", "keys", "init"]).status == 0)
        let secret = "tangerine-walrus-42"
        let seal = try TmuxSession(["--profile", "t", "keys", "seal"], home: home)
        #expect(await seal.waitFor("A passphrase to seal profile 't'"), "\(seal.screen())")
        seal.paste(secret)
        seal.send("Enter")
        #expect(await seal.waitFor("The same passphrase again"), "\(seal.screen())")
        seal.paste(secret)
        seal.send("Enter")
        #expect(await seal.waitFor("duet exited with status 0"), "\(seal.screen())")
        #expect(seal.screen().contains("sealed the private keys") && !seal.screen().contains(secret), "\(seal.screen())")
        seal.kill()

        let show = try TmuxSession(["--profile", "t", "keys", "show"], home: home)
        #expect(await show.waitFor("Passphrase for profile 't'"), "\(show.screen())")
        show.paste(secret)
        show.send("Enter")
        #expect(await show.waitFor("duet exited with status 0"), "\(show.screen())")
        #expect(show.screen().contains("sealed: yes") && !show.screen().contains(secret), "\(show.screen())")
        show.kill()

        let wrong = try TmuxSession(["--profile", "t", "keys", "show"], home: home)
        #expect(await wrong.waitFor("Passphrase for profile 't'"), "\(wrong.screen())")
        wrong.paste("not-it")
        wrong.send("Enter")
        #expect(await wrong.waitFor("does not open"), "\(wrong.screen())")
        wrong.kill()
        // Without a terminal (a script), the profile still opens with DUET_PASSPHRASE.
        #expect(try duet.run(["--profile", "t", "keys", "show"], environment: ["DUET_PASSPHRASE": secret]).stdout.contains("sealed: yes"))
    }

    /// A passphrase given for a profile made without one is not silently ignored.
    @Test func aPassphraseForAnUnsealedProfileIsSaidToProtectNothing() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        #expect(try duet.run(["--profile", "u", "keys", "init"]).status == 0)
        let shown = try duet.run(["--profile", "u", "keys", "show"], environment: ["DUET_PASSPHRASE": "pw"])
        #expect(shown.status == 0 && shown.stdout.contains("sealed: no"))
        #expect(shown.stderr.contains("DUET_PASSPHRASE is set, but profile 'u' was made without a passphrase"))
    }

    @Test func rotateSPKAdvancesTheSignedPrekey() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        _ = try duet.run(["--profile", "r", "keys", "init"])
        let rotated = try duet.run(["--profile", "r", "keys", "rotate-spk"])
        #expect(rotated.status == 0)
        #expect(try duet.run(["--profile", "r", "keys", "show"]).stdout.contains("signed prekey: #2"))
    }

    @Test func badProfileNameIsAValidationError() throws {
        let result = try duet.run(["--profile", "../x", "keys", "show"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("profile name"))
    }

    /// The help text is a contract: every documented subcommand is listed.
    @Test func helpListsTheSubcommands() throws {
        let help = try duet.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("keys"))
        #expect(help.stdout.contains("--profile"))
        let keys = try duet.run(["keys", "--help"]).stdout
        for sub in ["init", "show", "rotate-spk"] { #expect(keys.contains(sub)) }
    }
}
