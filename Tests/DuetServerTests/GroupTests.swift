import DuetClient
import DuetServer
import DuetWire
import Foundation
import Testing

/// Groups on a real server (docs/group-calls.md): membership, who may change it, who is told.
@Suite("Groups")
struct GroupTests {
    @Test(arguments: DirectoryEngine.allCases) func membersCreateAddAndLeaveAndEveryMemberIsTold(engine: DirectoryEngine) async throws {
        let server = try await TestServer.start(engine: engine)
        let devices = (0..<4).map { _ in TestDevice() }
        var connections: [(ServerConnection, EventRecorder)] = []
        for (index, device) in devices.enumerated() {
            let (connection, events) = try await device.connect(to: server)
            try await device.register(connection, as: "+1555260\(index)")
            connections.append((connection, events))
        }
        let (alice, _) = connections[0], (bob, bobEvents) = connections[1], (carol, carolEvents) = connections[2],
            (dave, _) = connections[3]

        let team = try await alice.createGroup(name: "Team", members: ["+15552601", "+15552602"])
        #expect(team.name == "Team" && team.owner == "+15552600")
        #expect(team.members == ["+15552600", "+15552601", "+15552602"])
        #expect(try await bob.groups() == [team])
        #expect(try await dave.groups().isEmpty)
        let told = await bobEvents.waitFor { if case .groupChanged = $0 { true } else { false } }
        #expect(told == .groupChanged(groupChange(team, added: team.members, removed: [], by: "+15552600")))

        // Any member may add; the owner may remove anyone; a member may leave.
        let withDave = try await bob.addGroupMember(group: team.id, number: "+15552603")
        #expect(withDave.members.contains("+15552603"))
        #expect(try await dave.groups().map(\.id) == [team.id])
        await expectServerError(.notPermitted) { _ = try await bob.removeGroupMember(group: team.id, number: "+15552602") }
        let afterLeave = try await carol.removeGroupMember(group: team.id, number: "+15552602")
        #expect(!afterLeave.members.contains("+15552602"))
        #expect(try await carol.groups().isEmpty)
        let left = await bobEvents.waitFor { if case let .groupChanged(change) = $0 { change.removed == ["+15552602"] } else { false } }
        #expect(left != nil)
        // The one who made the change is told too: another connection of theirs (a call in
        // progress) must learn of it.
        let toldLeaver = await carolEvents.waitFor {
            if case let .groupChanged(change) = $0 { change.removed == ["+15552602"] } else { false }
        }
        #expect(toldLeaver != nil)

        // Outsiders cannot see, change or probe a group.
        await expectServerError(.unknownGroup) { _ = try await carol.addGroupMember(group: team.id, number: "+15552602") }
        await expectServerError(.unknownGroup) { _ = try await carol.removeGroupMember(group: team.id, number: "+15552600") }
        await expectServerError(.unknownGroup) { _ = try await dave.addGroupMember(group: "gffffffff", number: "+15552602") }
        for (connection, _) in connections { await connection.close() }
        try await server.stop()
    }

    @Test(arguments: DirectoryEngine.allCases) func badGroupsAreRefusedWithAReason(engine: DirectoryEngine) async throws {
        let server = try await TestServer.start(engine: engine)
        let device = TestDevice()
        let (connection, _) = try await device.connect(to: server)
        await expectServerError(.notRegistered) { _ = try await connection.createGroup(name: "Team", members: []) }
        try await device.register(connection, as: "+15552610")
        await expectServerError(.invalidGroup) { _ = try await connection.createGroup(name: "", members: []) }
        await expectServerError(.invalidGroup) { _ = try await connection.createGroup(name: "   ", members: []) }
        await expectServerError(.invalidGroup) { _ = try await connection.createGroup(name: "bell\u{7}", members: []) }
        await expectServerError(.invalidGroup) {
            _ = try await connection.createGroup(name: String(repeating: "x", count: 41), members: [])
        }
        await expectServerError(.unknownNumber) { _ = try await connection.createGroup(name: "Team", members: ["+15559999"]) }
        await expectServerError(.invalidNumber) { _ = try await connection.createGroup(name: "Team", members: ["bob"]) }
        let tooMany = (0..<40).map { "+1555270\($0 < 10 ? "0" : "")\($0)" }
        await expectServerError(.invalidGroup) { _ = try await connection.createGroup(name: "Crowd", members: tooMany) }
        // A group of one survives a restart of the server (it is in the directory's store).
        let solo = try await connection.createGroup(name: "Solo", members: [])
        await connection.close()
        try await server.stop(keepingData: true)
        let again = try await TestServer.start(dataDirectory: server.dataDirectory, database: server.database)
        let (back, _) = try await device.connect(to: again)
        #expect(try await back.groups() == [solo])
        await back.close()
        try await again.stop()
    }

    func groupChange(_ group: GroupInfo, added: [String], removed: [String], by: String) -> GroupChange {
        GroupChange(group: group, added: added, removed: removed, by: by)
    }
}
