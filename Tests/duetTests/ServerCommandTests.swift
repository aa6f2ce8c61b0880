import Foundation
import Testing

@testable import duet

@Suite("duet server command line")
struct ServerCommandTests {
    @Test func defaultsMatchTheDesign() throws {
        let command = try ServerCommand.parse([])
        #expect(command.listen == "127.0.0.1:7400")
        #expect(command.media == "127.0.0.1:7401")
        #expect(command.data == nil)
        #expect(!command.openRegistration)
    }

    @Test func parsesEveryOption() throws {
        let command = try ServerCommand.parse([
            "--listen", "0.0.0.0:9000", "--media", "[::1]:9001", "--data", "/tmp/x", "--open-registration"
        ])
        #expect(command.listen == "0.0.0.0:9000")
        #expect(command.media == "[::1]:9001")
        #expect(command.data == "/tmp/x")
        #expect(command.openRegistration)
    }

    @Test func refusesABadAddressWithAnActionableMessage() {
        do {
            _ = try ServerCommand.parse(["--listen", "7400"])
            Issue.record("accepted an address without a port")
        } catch {
            let message = ServerCommand.message(for: error)
            #expect(message.contains("--listen"))
            #expect(message.contains("HOST:PORT"))
        }
    }

    @Test func inviteNeedsAValidNumber() throws {
        #expect(throws: (any Error).self) { try ServerCommand.Invite.parse(["5551234"]) }
        let invite = try ServerCommand.Invite.parse(["+15551234", "--data", "/tmp/d"])
        #expect(invite.number == "+15551234")
        #expect(invite.data == "/tmp/d")
    }

    @Test func dataDirectoryFollowsXDG() {
        #expect(ServerCommand.defaultDataDirectory(environment: ["XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/x/duet/server")
        #expect(ServerCommand.defaultDataDirectory(environment: ["HOME": "/h"]) == "/h/.local/share/duet/server")
    }
}

/// Runs the real binary: `--data` after the `invite` subcommand must reach it, not be taken
/// by the parent `server` command (an invite written to the default data directory is lost).
@Suite("duet server invite (binary)")
struct ServerInviteBinaryTests {
    @Test func inviteIsWrittenToTheGivenDataDirectory() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-invite-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let data = home.appendingPathComponent("server")
        let result = try DuetCommandLine(home: home).run(
            ["server", "invite", "+15550001", "--data", data.path],
            environment: ["XDG_DATA_HOME": home.appendingPathComponent("xdg").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("duet-server.sqlite").path))
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("xdg/duet/server").path))
    }
}
