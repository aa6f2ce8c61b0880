import Foundation
import Testing

/// `duet history` through the binary (docs/history.md): a call to a device that is offline
/// (every CLI device is, between its commands) is a missed call on it when it next looks.
@Suite("duet history", .serialized)
struct HistoryCommandTests {
    @Test func aCallToAnOfflineDeviceShowsAsMissedInItsHistory() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-history-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let duet = DuetCommandLine(home: home)
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        defer { server.stop() }
        for (profile, number, name) in [("alice", "+15550001", "Alice"), ("bob", "+15550002", "Bob")] {
            #expect(try duet.run(["--profile", profile, "register", number, "--server", server.signaling, "--name", name]).status == 0)
        }
        #expect(try duet.run(["--profile", "bob", "contacts", "add", "+15550001", "--name", "Alice"]).status == 0)
        #expect(try duet.run(["--profile", "bob", "history", "--offline"]).stdout.contains("no calls yet"))

        let call = try duet.run(["--profile", "alice", "call", "+15550002", "--duration", "1s"])
        #expect(call.status != 0, "a call to an offline device cannot connect")
        #expect(call.stdout.contains("+15550002 is away: they will see that you called"), "\(call.stdout)\n\(call.stderr)")
        let outgoing = try duet.run(["--profile", "alice", "history"])
        #expect(outgoing.stdout.contains("→ +15550002 failed"), "\(outgoing.stdout)\n\(outgoing.stderr)")

        let offline = try duet.run(["--profile", "bob", "history", "--offline"])
        #expect(offline.stdout.contains("no calls yet"), "--offline fetched the notice: \(offline.stdout)")
        let history = try duet.run(["--profile", "bob", "history"])
        #expect(history.status == 0)
        let line = try #require(history.stdout.split(separator: "\n").first, "\(history.stdout)\n\(history.stderr)")
        #expect(line.hasPrefix("! ") && line.hasSuffix("← Alice (+15550001) missed"), "\(history.stdout)")
        // Kept on the device, forgotten by the server: a second look shows it once.
        let again = try duet.run(["--profile", "bob", "history"])
        #expect(again.stdout.split(separator: "\n").filter { $0.contains("missed") }.count == 1, "\(again.stdout)")
    }
}
