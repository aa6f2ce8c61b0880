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

    /// A third node, a `duet server` process, that alone takes new rooms (the others drain
    /// until a test undoes it), registered in the node table.
    private static func onlyNodeTakingRooms(_ database: TestDatabase) async throws -> DuetServerProcess {
        try database.cluster.sql("UPDATE node SET draining = 1", database: database.name)
        let node = try DuetServerProcess(database: database.url)
        let registered = await eventually(timeout: .seconds(20)) {
            (try? database.cluster.sql("SELECT count(*) FROM node WHERE draining = 0", database: database.name))?
                .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        }
        if !registered { node.kill() }
        try #require(registered, "the third node did not register")
        return node
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

    /// The node holding a group call is killed (SIGKILL, a real `duet server` process): the
    /// other nodes reap it, tell the members (connected to them) that the room is lost, and
    /// the members enter the call again — placed on a live node, new legs, new keys — and hear
    /// each other again. Prints how long that took (docs/deployment.md "Rooms").
    @Test func killingTheNodeHoldingAGroupCallMovesItToAnother() async throws {
        let nodes = try await Self.twoNodes()
        let database = try #require(nodes.0.database)
        // Only the node about to be killed takes rooms: the two others drain until it holds the call.
        let doomed = try await Self.onlyNodeTakingRooms(database)
        defer { doomed.kill() }
        var members: [GroupTestDevice] = []
        for index in 0..<3 {
            members.append(try await .make("+155533\(40 + index)", name: "Member\(index + 1)", on: index == 2 ? nodes.1 : nodes.0))
        }
        let group = try await members[0].session.connection.createGroup(name: "Failover", members: members.dropFirst().map(\.number))
        let info = try await members[0].engine.start(group: group.id, callID: "failover-1")
        for member in members.dropFirst() { _ = try await member.engine.join(callID: info.callID) }
        for member in members {
            let others = members.filter { $0.number != member.number }
            let heard = await eventually(timeout: .seconds(60)) { await GroupCallTests.hears(member, others) }
            #expect(heard, "\(member.number) does not hear everyone before the kill:\n\(member.events.log)")
        }
        let holder = try database.cluster.sql(
            "SELECT signaling FROM room JOIN node ON node.id = room.node WHERE room.id = 'failover-1'", database: database.name)
        #expect(holder.contains(doomed.signaling), "the call is not on the node about to be killed: \(holder)")

        let killed = ContinuousClock.now
        doomed.kill()
        try database.cluster.sql("UPDATE node SET draining = 0", database: database.name)
        await GroupCallServerRestartTests.expectBackAndHeard(members, rejoining: members, callID: info.callID)
        print("failover: the call was heard again on a live node \(ContinuousClock.now - killed) after its node was killed")
        let gone = try database.cluster.sql("SELECT count(*) FROM node WHERE signaling = '\(doomed.signaling)'", database: database.name)
        #expect(gone.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the dead node is still in the table")
        for member in members { await member.close() }
        try await Self.stop(nodes)
    }

    /// The node holding a meeting is killed: its host and guest, connected to a live node, are
    /// told the meeting ended with its node (a meeting does not survive its node, as it does
    /// not survive a server restart).
    @Test func killingTheNodeHoldingAMeetingEndsItForThoseElsewhere() async throws {
        let nodes = try await Self.twoNodes()
        let database = try #require(nodes.0.database)
        let doomed = try await Self.onlyNodeTakingRooms(database)
        defer { doomed.kill() }
        typealias Attendee = MeetingMediaTests.Attendee
        let host = try await Attendee.make("+15553380", on: nodes.0)
        let guest = try await Attendee.guest(notSoundingLike: "+15553380", on: nodes.0)
        let link = try await host.engine.create(open: true, record: false, name: "Host")
        _ = try await guest.engine.join(link, name: "Guest")
        for attendee in [host, guest] {
            let inside = await eventually { await attendee.engine.snapshot()?.mediaConnected == true }
            #expect(inside, "\(attendee.events.log)")
        }
        doomed.kill()
        for attendee in [host, guest] {
            let ended = await eventually(timeout: .seconds(30)) {
                attendee.events.events.contains(.ended(.closed(MeetingSignaling.nodeLostReason)))
            }
            #expect(ended, "\(attendee.events.log)")
        }
        for attendee in [host, guest] { await attendee.close() }
        try await Self.stop(nodes)
    }

    /// `duet server drain`: the drained node is given no new room — a call started by a device
    /// connected to it is placed on the other — and a node nobody runs is refused by name.
    @Test func aDrainedNodeTakesNoNewRooms() async throws {
        let nodes = try await Self.twoNodes()
        let database = try #require(nodes.0.database)
        let said = try await ServerApplication.drain(node: nodes.0.address.description, database: database.url)
        #expect(said.contains("draining \(nodes.0.address)"), "\(said)")
        let device = TestDevice(), other = TestDevice()
        let (connection, _) = try await device.connect(to: nodes.0)
        try await device.register(connection, as: "+15553360")
        let (otherConnection, _) = try await other.connect(to: nodes.1)
        try await other.register(otherConnection, as: "+15553361")
        let group = try await connection.createGroup(name: "Drained", members: ["+15553361"])
        for index in 0..<4 {
            _ = try await connection.startGroupCall(group: group.id, callID: "drained-\(index)", dtlsFingerprint: nil)
            let holder = try database.cluster.sql(
                "SELECT signaling FROM room JOIN node ON node.id = room.node WHERE room.id = 'drained-\(index)'", database: database.name)
            #expect(holder.trimmingCharacters(in: .whitespacesAndNewlines) == nodes.1.address.description, "placed on \(holder)")
            _ = try await connection.leaveGroupCall(callID: "drained-\(index)")
        }
        do {
            _ = try await ServerApplication.drain(node: "192.0.2.1:7400", database: database.url)
            Issue.record("a node nobody runs was drained")
        } catch {
            #expect("\(error)".contains("no live node advertises 192.0.2.1:7400"), "\(error)")
        }
        await connection.close()
        await otherConnection.close()
        try await Self.stop(nodes)
    }

    /// A meeting held by one node, its host and a guest connected to the other (the link names
    /// the host's node): the guest's knock, the host's admission and both legs go to the
    /// holder; they hear each other; the host's leaving ends it and gives its claim back.
    @Test func aMeetingJoinedThroughANodeThatDoesNotHoldIt() async throws {
        let nodes = try await Self.twoNodes()
        let database = try #require(nodes.0.database)
        _ = try await ServerApplication.drain(node: nodes.0.address.description, database: database.url)
        typealias Attendee = MeetingMediaTests.Attendee
        let host = try await Attendee.make("+15553370", on: nodes.0)
        let guest = try await Attendee.guest(notSoundingLike: "+15553370", on: nodes.0)
        let link = try await host.engine.create(open: false, record: true, name: "Host")
        let holder = try database.cluster.sql(
            "SELECT signaling FROM room JOIN node ON node.id = room.node WHERE room.id = 'meeting:\(link.code)'", database: database.name)
        #expect(holder.trimmingCharacters(in: .whitespacesAndNewlines) == nodes.1.address.description, "held by \(holder)")
        #expect(try await guest.engine.join(link, name: "Guest") == .waiting(code: link.code))
        let knocked = await eventually { (await host.engine.snapshot()?.meeting?.knocking.count ?? 0) == 1 }
        #expect(knocked, "\(host.events.log)")
        for person in await host.engine.snapshot()?.meeting?.knocking ?? [] { try await host.engine.admit(person.id, true) }
        var ids: [String] = []
        for attendee in [host, guest] {
            let inside = await eventually { await attendee.engine.snapshot()?.mediaConnected == true }
            #expect(inside, "\(attendee.events.log)")
            if let id = await attendee.engine.snapshot()?.you { ids.append(id) }
        }
        for (attendee, id) in zip([host, guest], ids) {
            let heard = await eventually(timeout: .seconds(60)) { await MeetingMediaTests.hears(attendee, ids.filter { $0 != id }) }
            #expect(heard, "\(id) does not hear the other:\n\(attendee.events.log)")
        }
        await host.engine.leave()
        let ended = await eventually { guest.events.events.contains(.ended(.closed(MeetingSignaling.hostLeftReason))) }
        #expect(ended, "\(guest.events.log)")
        let rooms = try database.cluster.sql("SELECT count(*) FROM room", database: database.name)
        #expect(rooms.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the ended meeting's claim is still there")
        for attendee in [host, guest] { await attendee.close() }
        try await Self.expectRecordingIndexed(of: link.code, keptBy: nodes.1, askedOf: nodes.0, database: database)
        try await Self.stop(nodes)
    }

    /// The recording of a meeting held by `keeper` is in the shared index under `keeper`'s
    /// address, listed by the operator's command on the other node with that address, and an
    /// export asked of the other node names `keeper` (docs/deployment.md "Recordings across nodes").
    private static func expectRecordingIndexed(
        of code: String, keptBy keeper: TestServer, askedOf other: TestServer, database: TestDatabase
    ) async throws {
        let finished = await eventually(timeout: .seconds(20)) {
            let entries = (try? await ServerApplication.recordingIndex(database: database.url)) ?? []
            return entries.count == 1 && entries[0].ended != nil
        }
        let entries = try await ServerApplication.recordingIndex(database: database.url)
        #expect(finished, "the recording is not indexed as finished: \(entries)")
        let entry = try #require(entries.first)
        #expect(entry.node == keeper.address.description)
        let environment = ["DUET_DATABASE_URL": database.url]
        let listed = try DuetCommand.run(["server", "recordings", "list", "--data", other.dataDirectory], environment: environment)
        #expect(
            listed.status == 0 && listed.output.contains("\(entry.id)") && listed.output.contains("kept by the node at \(entry.node)"),
            "\(listed)")
        let there = try DuetCommand.run(["server", "recordings", "list", "--data", keeper.dataDirectory], environment: environment)
        #expect(there.output.contains(code) && !there.output.contains("kept by"), "the keeper lists it with its meeting: \(there)")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("duet-export-\(UUID().uuidString).opus").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let refused = try DuetCommand.run(
            ["server", "recordings", "export", entry.id, "-o", output, "--data", other.dataDirectory], environment: environment)
        #expect(refused.status != 0 && refused.output.contains("the node at \(entry.node) keeps recording"), "\(refused)")
        let exported = try DuetCommand.run(
            ["server", "recordings", "export", entry.id, "-o", output, "--data", keeper.dataDirectory], environment: environment)
        #expect(exported.status == 0 && FileManager.default.fileExists(atPath: output), "\(exported)")
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

    /// Two nodes serving with one certificate: a device whose node is killed reconnects to the
    /// other one (the login named it), under the pin it holds, and can be called there.
    @Test func aDeviceWhoseNodeDiesReconnectsToAnother() async throws {
        let survivor = try await TestServer.start(engine: .postgres)
        let database = try #require(survivor.database)
        // A node with a certificate of its own: no device of the others is sent there.
        let stranger = try await TestServer.start(database: database)
        let doomed = try DuetServerProcess(database: database.url, certificateFrom: survivor.dataDirectory)
        defer { doomed.kill() }
        let registered = await eventually(timeout: .seconds(20)) {
            (try? database.cluster.sql("SELECT count(*) FROM node", database: database.name))?
                .trimmingCharacters(in: .whitespacesAndNewlines) == "3"
        }
        try #require(registered, "the second node did not register")
        let alice = try await CallTestDevice.make(
            "+15553261", name: "Alice", at: try HostPort(parsing: doomed.signaling), options: .autoAnswering)
        let bob = try await CallTestDevice.make("+15553262", name: "Bob", on: survivor)
        try await bob.session.addContact(number: alice.number, name: "Alice")
        #expect(await alice.session.connection.node.description == doomed.signaling)
        #expect(await alice.session.connection.otherNodes == [survivor.address], "only the node sharing the certificate is named")
        // A node started later is told to devices already logged in, and so is its stopping.
        let lateData = FileManager.default.temporaryDirectory.appendingPathComponent("duet-node-late-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: lateData, withIntermediateDirectories: true)
        for file in [ServerCertificate.certificateFileName, ServerCertificate.keyFileName] {
            try FileManager.default.copyItem(
                at: URL(fileURLWithPath: survivor.dataDirectory).appendingPathComponent(file), to: lateData.appendingPathComponent(file))
        }
        let late = try await TestServer.start(dataDirectory: lateData.path, database: database)
        let told = await eventually(timeout: .seconds(20)) { await alice.session.connection.otherNodes.contains(late.address) }
        #expect(told, "a node started after the login was not named")
        try await late.stop(keepingData: true)
        try? FileManager.default.removeItem(at: lateData)
        let forgotten = await eventually(timeout: .seconds(20)) { await !alice.session.connection.otherNodes.contains(late.address) }
        #expect(forgotten, "a stopped node is still named")

        doomed.kill()
        let moved = await eventually(timeout: .seconds(30)) { await alice.session.connection.node == survivor.address }
        #expect(moved, "alice did not reconnect to the surviving node")
        let reachable = await eventually(timeout: .seconds(30)) {
            (try? await bob.session.connection.lookup(number: alice.number).online) == true
        }
        #expect(reachable, "alice is not online through the surviving node")
        try await bob.engine.place(to: alice.number)
        #expect(await bob.events.waitForConnected() != nil, "bob: \(bob.events.log)")
        #expect(await bob.events.waitForHearing(alice.number) != nil, "bob: \(bob.events.log)")
        #expect(await alice.events.waitForHearing(bob.number) != nil, "alice: \(alice.events.log)")
        await alice.close()
        await bob.close()
        try await stranger.stop(keepingData: true)
        try? FileManager.default.removeItem(atPath: stranger.dataDirectory)
        try await survivor.stop()
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

/// A `duet server` node in its own process, so a test can kill it as a crash would (SIGKILL:
/// no goodbye to the other nodes, no row deleted).
final class DuetServerProcess: Sendable {
    let signaling: String
    private let process: Process
    private let directory: URL

    /// `certificateFrom`: a data directory whose signaling certificate this node serves with
    /// too (copied, as an operator copies it to every node's `--data`).
    init(database: String, certificateFrom: String? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("duet-node-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            if let certificateFrom {
                for file in [ServerCertificate.certificateFileName, ServerCertificate.keyFileName] {
                    try FileManager.default.copyItem(
                        at: URL(fileURLWithPath: certificateFrom).appendingPathComponent(file), to: directory.appendingPathComponent(file))
                }
            }
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        let port = Int.random(in: 30_000..<40_000)
        signaling = "127.0.0.1:\(port)"
        process = Process()
        process.executableURL = DuetCommand.binary
        process.arguments = [
            "server", "--listen", signaling, "--media", "127.0.0.1:\(port + 1)", "--data", directory.path, "--relay-allow-loopback"
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["DUET_DATABASE_URL": database]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func kill() {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The `duet` executable beside the test binary, run to its end: its exit status, and its
/// standard output and error together.
enum DuetCommand {
    static var binary: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("duet") }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // A command that hangs is killed after a minute (its output then ends, and the test fails).
        let watchdog = Task.detached { [process] in
            try? await Task.sleep(for: .seconds(60))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
