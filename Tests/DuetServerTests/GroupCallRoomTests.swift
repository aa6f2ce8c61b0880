import DuetClient
import DuetServer
import DuetWire
import Foundation
import Testing

/// Group-call rooms over signaling (docs/group-calls.md): members are rung and admitted, others are
/// not; everyone hears of each join and leave, including a device that vanishes.
@Suite("Group call rooms")
struct GroupCallRoomTests {
    struct Member {
        let number: String
        let connection: ServerConnection
        let events: EventRecorder
    }

    func members(_ count: Int, on server: TestServer, base: Int) async throws -> [Member] {
        var result: [Member] = []
        for index in 0..<count {
            let device = TestDevice()
            let (connection, events) = try await device.connect(to: server)
            let number = "+1555\(base + index)"
            try await device.register(connection, as: number)
            result.append(Member(number: number, connection: connection, events: events))
        }
        return result
    }

    func changed(_ member: Member, _ matches: @escaping @Sendable (GroupCallInfo, [String], [String]) -> Bool) async -> Bool {
        await member.events.waitFor {
            if case let .groupCallChanged(call, joined, left) = $0 { matches(call, joined, left) } else { false }
        } != nil
    }

    /// A room change names the group's members but carries none of its vouches; the replies to
    /// a start and a join carry them. A device gives keys by the signed membership of its reply
    /// and of group changes only, and the vouches — about 7 KB of JSON in a group of 32 — sent to
    /// every member on every join were most of a big call's signaling (docs/performance.md).
    @Test func roomChangesCarryTheMembersAndRepliesTheVouches() async throws {
        let server = try await TestServer.start()
        let people = try await members(3, on: server, base: 2920)
        let (ann, ben, cat) = (people[0], people[1], people[2])
        let team = try await ann.connection.createGroup(name: "Team", members: [ben.number, cat.number])
        #expect(team.founding != nil && team.vouches.count == 3)
        let started = try await ann.connection.startGroupCall(group: team.id, callID: "gc-summary")
        #expect(started.group == team)
        let unsigned: @Sendable (GroupCallInfo) -> Bool = { call in
            call.group.members == team.members && call.group.founding == nil && call.group.vouches.isEmpty
        }
        #expect(await changed(ben) { call, joined, _ in joined == [ann.number] && unsigned(call) }, "the ring")
        let joined = try await ben.connection.joinGroupCall(callID: "gc-summary")
        #expect(joined.group == team)
        #expect(await changed(ann) { call, joined, _ in joined == [ben.number] && unsigned(call) })
        _ = try await ben.connection.leaveGroupCall(callID: "gc-summary")
        #expect(await changed(cat) { call, _, left in left == [ben.number] && unsigned(call) })
        for member in people { await member.connection.close() }
        try await server.stop()
    }

    @Test func membersAreRungAndJoinAndOutsidersCanNeitherRingNorJoin() async throws {
        let server = try await TestServer.start()
        let people = try await members(5, on: server, base: 2900)
        let (ann, ben, cat, dan, eve) = (people[0], people[1], people[2], people[3], people[4])
        let team = try await ann.connection.createGroup(name: "Team", members: [ben.number, cat.number, dan.number])

        let started = try await ann.connection.startGroupCall(group: team.id, callID: "gc-1")
        #expect(started.participants == [ann.number])
        for member in [ben, cat, dan] {
            #expect(
                await changed(member) { call, joined, _ in call.callID == "gc-1" && joined == [ann.number] },
                "\(member.number) was not rung")
        }
        let joined = try await ben.connection.joinGroupCall(callID: "gc-1")
        #expect(joined.participants == [ann.number, ben.number])
        #expect(await changed(ann) { call, joined, _ in joined == [ben.number] && call.participants.count == 2 })

        // Eve is not in the group: she can neither ring it nor join its call.
        await expectServerError(.unknownGroup) { _ = try await eve.connection.startGroupCall(group: team.id, callID: "gc-2") }
        await expectServerError(.unknownCall) { _ = try await eve.connection.joinGroupCall(callID: "gc-1") }
        #expect(await eve.events.contains { if case .groupCallChanged = $0 { true } else { false } } == false)
        await expectServerError(.callExists) { _ = try await cat.connection.startGroupCall(group: team.id, callID: "gc-1") }

        // Ben leaves; Cat joins; Dan is removed from the group by its owner mid-call.
        _ = try await cat.connection.joinGroupCall(callID: "gc-1")
        _ = try await dan.connection.joinGroupCall(callID: "gc-1")
        let afterLeave = try await ben.connection.leaveGroupCall(callID: "gc-1")
        #expect(afterLeave.participants == [ann.number, cat.number, dan.number])
        #expect(await changed(cat) { _, _, left in left == [ben.number] })
        _ = try await ann.connection.removeGroupMember(group: team.id, number: dan.number)
        #expect(await changed(cat) { call, _, left in left == [dan.number] && !call.participants.contains(dan.number) })
        await expectServerError(.unknownCall) { _ = try await dan.connection.joinGroupCall(callID: "gc-1") }

        // Cat's device vanishes: the others are told she left.
        await cat.connection.close()
        #expect(await changed(ann) { call, _, left in left == [cat.number] && call.participants == [ann.number] })

        // The last one out closes the room.
        _ = try await ann.connection.leaveGroupCall(callID: "gc-1")
        await expectServerError(.unknownCall) { _ = try await ben.connection.joinGroupCall(callID: "gc-1") }
        for member in people { await member.connection.close() }
        try await server.stop()
    }
}
