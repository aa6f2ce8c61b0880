import Foundation
import Testing

/// Two profiles on one machine, one real `duet server`, everything through the binary.
@Suite("duet register and contacts", .serialized)
struct ContactsCommandTests {
    let home: URL
    let duet: DuetCommandLine

    init() {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-contacts-\(UUID().uuidString)")
        duet = DuetCommandLine(home: home)
    }

    func run(_ args: [String]) throws -> DuetCommandLine.Result {
        let result = try duet.run(args)
        #expect(result.status == 0, "duet \(args.joined(separator: " ")) failed: \(result.stderr)")
        return result
    }

    func safetyNumber(_ output: String) -> String {
        output.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.contains(where: \.isNumber) }.joined(separator: " ")
    }

    @Test func twoDevicesSeeTheSameSafetyNumberAndAKeyChangeUnverifies() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        defer { server.stop() }
        let address = server.signaling
        let alice = try run(["--profile", "alice", "register", "+15550001", "--server", address, "--name", "Alice"])
        #expect(alice.stdout.contains("one-time prekeys on the server: 100"))
        _ = try run(["--profile", "bob", "register", "+15550002", "--server", address])
        _ = try run(["--profile", "alice", "contacts", "add", "+15550002", "--name", "Bob"])
        _ = try run(["--profile", "bob", "contacts", "add", "+15550001", "--name", "Alice"])

        let fromAlice = safetyNumber(try run(["--profile", "alice", "contacts", "verify", "+15550002"]).stdout)
        let fromBob = safetyNumber(try run(["--profile", "bob", "contacts", "verify", "+15550001", "--confirm"]).stdout)
        #expect(fromAlice.split(separator: " ").count == 12)
        #expect(fromAlice == fromBob)
        #expect(try run(["--profile", "bob", "contacts", "list"]).stdout.contains("verified ✓"))

        // Alice moves her number to a new device with an operator's invite code.
        let code = try run(["server", "invite", "+15550001", "--data", server.dataDirectory.path]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let newDevice = try run(["--profile", "alice-new", "register", "+15550001", "--server", address, "--invite", code])
        #expect(newDevice.stdout.contains("registered +15550001"))
        let list = try run(["--profile", "bob", "contacts", "list"]).stdout
        #expect(list.contains("KEY CHANGED"))
        #expect(!list.contains("verified ✓"))
        let reverify = try run(["--profile", "bob", "contacts", "verify", "+15550001"]).stdout
        #expect(safetyNumber(reverify) != fromBob)

        // Without the code the number cannot be taken again.
        let thief = try duet.run(["--profile", "mallory", "register", "+15550001", "--server", address])
        #expect(thief.status != 0)
        #expect(thief.stderr.contains("number"))
    }

    @Test func aChangedServerCertificateIsRefusedUntilAcceptedDeliberately() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let address = "127.0.0.1:\(freeLoopbackPort())"
        let first = try ServerProcess(dataDirectory: home.appendingPathComponent("server-1"), listen: address)
        _ = try run(["--profile", "carol", "register", "+15550003", "--server", address])
        first.stop()
        // Another server, with another certificate, now answers at the remembered address.
        let second = try ServerProcess(dataDirectory: home.appendingPathComponent("server-2"), listen: address)
        defer { second.stop() }
        let refused = try duet.run(["--profile", "carol", "contacts", "list"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("different certificate"))
        #expect(refused.stderr.contains("--accept-certificate \(second.fingerprint)"))
        // Accepted deliberately with the fingerprint the operator printed: pinned from then on.
        _ = try run(["--profile", "carol", "register", "+15550003", "--accept-certificate", second.fingerprint])
        _ = try run(["--profile", "carol", "contacts", "list"])
    }
}
