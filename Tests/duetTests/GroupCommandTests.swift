import Foundation
import Testing

/// `duet group` through the binary against a real `duet server`.
@Suite("duet group")
struct GroupCommandTests {
    @Test func createListAddAndRemoveByName() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-groups-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let duet = DuetCommandLine(home: home)
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        defer { server.stop() }
        for (profile, number) in [("ann", "+15554101"), ("ben", "+15554102"), ("cat", "+15554103")] {
            #expect(try duet.run(["register", number, "--profile", profile, "--server", server.signaling]).status == 0)
        }
        let created = try duet.run(["group", "create", "Team", "+15554102", "--profile", "ann"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("created Team"))

        let added = try duet.run(["group", "add", "Team", "+15554103", "--profile", "ben"])
        #expect(added.stdout.contains("+15554103"), "\(added.stderr)")
        let list = try duet.run(["group", "list", "--profile", "cat"]).stdout
        #expect(list.contains("Team") && list.contains("+15554101 (owner)") && list.contains("+15554102"))

        let refused = try duet.run(["group", "remove", "Team", "+15554101", "--profile", "cat"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("owner"), "\(refused.stderr)")
        let left = try duet.run(["group", "remove", "Team", "+15554103", "--profile", "cat"])
        #expect(left.status == 0, "\(left.stderr)")
        #expect(try duet.run(["group", "list", "--profile", "cat"]).stdout.contains("no groups yet"))
        let unknown = try duet.run(["group", "add", "Nope", "+15554103", "--profile", "ann"])
        #expect(unknown.status != 0 && unknown.stderr.contains("no group called 'Nope'"), "\(unknown.stderr)")
    }
}
