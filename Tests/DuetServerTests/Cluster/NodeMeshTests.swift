import DuetCrypto
import DuetWire
import Foundation
import Testing

@testable import DuetClient
@testable import DuetServer

/// Several server nodes on one PostgreSQL database (docs/deployment.md "Nodes"): a device may
/// connect to any of them, and what is sent to it reaches it through the node it is on.
@Suite("Nodes sharing one PostgreSQL directory", .serialized)
struct NodeMeshTests {
    /// Two nodes; both stop (the database with the last one).
    private static func twoNodes() async throws -> (TestServer, TestServer) {
        let first = try await TestServer.start(engine: .postgres)
        let second = try await TestServer.start(database: first.database)
        return (first, second)
    }

    private static func stop(_ nodes: (TestServer, TestServer)) async throws {
        try await nodes.1.stop(keepingData: true)
        try await nodes.0.stop()
    }

    @Test func aCallBetweenDevicesOnTwoNodesConnectsAndBothHear() async throws {
        let nodes = try await Self.twoNodes()
        let alice = try await CallTestDevice.make("+15553201", name: "Alice", on: nodes.0)
        let bob = try await CallTestDevice.make("+15553202", name: "Bob", on: nodes.1, options: .autoAnswering)
        try await alice.addContact(bob, name: "Bob")
        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .p2p)
        #expect(await bob.events.waitForConnected() == .p2p)
        #expect(await alice.events.waitForHearing(bob.number)?.speaker == "Bob (+15553202)", "alice: \(alice.events.log)")
        #expect(await bob.events.waitForHearing(alice.number) != nil, "bob: \(bob.events.log)")
        #expect(alice.events.sas != nil && alice.events.sas == bob.events.sas)
        await alice.engine.hangUp()
        #expect(await bob.events.waitForEnd() == .hungUpByPeer)
        await alice.close()
        await bob.close()
        try await Self.stop(nodes)
    }

    /// Members of one group call connected to two nodes: the room is placed on one of them, the
    /// others' requests are forwarded there and their legs go to its media port; everyone
    /// hears everyone, and the room's claim is given back when the last one leaves.
    @Test func aGroupCallWhoseMembersSignalThroughDifferentNodes() async throws {
        let nodes = try await Self.twoNodes()
        let database = try #require(nodes.0.database)
        var members: [GroupTestDevice] = []
        for index in 0..<4 {
            members.append(
                try await .make("+155533\(10 + index)", name: "Member\(index + 1)", on: index.isMultiple(of: 2) ? nodes.0 : nodes.1))
        }
        let group = try await members[0].session.connection.createGroup(name: "Spread", members: members.dropFirst().map(\.number))
        let info = try await members[0].engine.start(group: group.id, callID: "spread-1")
        for member in members.dropFirst() { _ = try await member.engine.join(callID: info.callID) }
        for member in members {
            let others = members.filter { $0.number != member.number }
            let heard = await eventually(timeout: .seconds(60)) { await GroupCallTests.hears(member, others) }
            #expect(heard, "\(member.number) does not hear everyone:\n\(member.events.log)")
        }
        let rooms = {
            try database.cluster.sql("SELECT count(*) FROM room", database: database.name).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try rooms() == "1", "one room, claimed by one node")
        for member in members { await member.engine.leave() }
        let released = await eventually(timeout: .seconds(10)) { (try? rooms()) == "0" }
        #expect(released, "the empty room's claim was not given back")
        for member in members { await member.close() }
        try await Self.stop(nodes)
    }

    /// Presence crosses nodes: a watcher on one node sees a number come online and go offline
    /// on the other, and a signal to a number offline everywhere is refused as offline.
    @Test func presenceAndRefusalsCrossNodes() async throws {
        let nodes = try await Self.twoNodes()
        let watcher = TestDevice(), bob = TestDevice()
        let (w, watcherEvents) = try await watcher.connect(to: nodes.0)
        try await watcher.register(w, as: "+15553211")
        let (b, _) = try await bob.connect(to: nodes.1)
        try await bob.register(b, as: "+15553212")
        #expect(try await w.watch(["+15553212"])["+15553212"] == true)
        await b.close()
        #expect(await watcherEvents.waitFor { $0 == .presence(number: "+15553212", online: false) } != nil)
        await expectServerError(.unavailable) {
            try await w.sendCallSignal(to: "+15553212", callID: "c1", kind: "offer", payload: [1, 2, 3])
        }
        let (again, _) = try await bob.connect(to: nodes.1)
        #expect(await watcherEvents.waitFor { $0 == .presence(number: "+15553212", online: true) } != nil)
        await again.close()
        await w.close()
        try await Self.stop(nodes)
    }

    /// A node that stops heartbeating is reaped by the others within `deadAfter` plus a
    /// heartbeat, and every row that pointed at it goes with it.
    @Test func aDeadNodeIsReapedWithEverythingThatPointedAtIt() async throws {
        let nodes = try await Self.twoNodes()
        let cluster = try #require(nodes.0.database)
        let stale = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
        try cluster.cluster.sql(
            """
            INSERT INTO node (id, signaling, media, startedAt, seenAt) VALUES ('deadbeef0000', '192.0.2.9:7400', '192.0.2.9:7401', \(stale), \(stale));
            INSERT INTO presence (identityKey, number, node) VALUES ('\\x01', '+15553299', 'deadbeef0000');
            INSERT INTO parcel (node, kind, toNumber, body) VALUES ('deadbeef0000', 'notice', '+15553299', '\\x00');
            INSERT INTO room (id, node, claimedAt) VALUES ('r1', 'deadbeef0000', \(stale));
            """, database: cluster.name)
        let deadline = ContinuousClock.now + .seconds(10)
        var left = ""
        repeat {
            try await Task.sleep(for: .milliseconds(200))
            left = try cluster.cluster.sql(
                """
                SELECT (SELECT count(*) FROM node WHERE id = 'deadbeef0000') + (SELECT count(*) FROM presence WHERE node = 'deadbeef0000')
                     + (SELECT count(*) FROM parcel WHERE node = 'deadbeef0000') + (SELECT count(*) FROM room WHERE node = 'deadbeef0000')
                """, database: cluster.name
            ).trimmingCharacters(in: .whitespacesAndNewlines)
        } while left != "0" && ContinuousClock.now < deadline
        #expect(left == "0", "rows still point at the dead node")
        let live = try cluster.cluster.sql("SELECT count(*) FROM node", database: cluster.name).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(live == "2", "the two live nodes stay")
        try await nodes.1.stop(keepingData: true)
        let after = try cluster.cluster.sql("SELECT count(*) FROM node", database: cluster.name).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(after == "1", "a node that stops leaves the table")
        try await nodes.0.stop()
    }
}
