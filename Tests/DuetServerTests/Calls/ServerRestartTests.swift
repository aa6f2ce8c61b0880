import DuetMedia
import DuetServer
import DuetWire
import Foundation
import Synchronization
import Testing

@testable import DuetClient

/// The server going away in the middle of a call (docs/server.md "Restarting the server during calls"). A peer-to-peer call's
/// media never touches the server, so it must go on; the devices' signaling reconnects to
/// the restarted server (same ports, same data) on its own, and the call can still be hung up.
@Suite("Server restarts during calls", .serialized)
struct ServerRestartTests {
    @Test func aPeerToPeerCallOutlivesAServerRestartAndSignalingReconnects() async throws {
        let first = try await TestServer.start()
        let signaling = first.address, media = first.app.mediaAddress
        let alice = try await CallTestDevice.make("+15554901", name: "Alice", on: first)
        let bob = try await CallTestDevice.make("+15554902", name: "Bob", on: first, options: .autoAnswering)
        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .p2p, "\(alice.events.log)")
        #expect(await bob.events.waitForHearing(alice.number) != nil, "\(bob.events.log)")

        try await first.stop(keepingData: true)
        #expect(await eventually(timeout: .seconds(10)) { await alice.session.link != .connected }, "alice never noticed the server go")
        // Media goes on without the server: new hearing reports name the peer, three seconds on.
        let heardBefore = bob.events.events.count
        try await Task.sleep(for: .seconds(3))
        let later = bob.events.events.dropFirst(heardBefore).compactMap { if case let .hearing(report) = $0 { report } else { nil } }
        #expect(
            later.count >= 2 && later.allSatisfy { $0.speaker?.contains(alice.number) == true },
            "bob stopped hearing alice while the server was down: \(later)")
        #expect(await alice.engine.state == .connected(.p2p))

        let second = try await TestServer.start(dataDirectory: first.dataDirectory, signaling: signaling, media: media)
        let reconnected = await eventually(timeout: .seconds(40)) {
            let links = (await alice.session.link, await bob.session.link)
            return links.0 == .connected && links.1 == .connected
        }
        let links = (await alice.session.link, await bob.session.link)
        #expect(reconnected, "signaling did not reconnect: alice \(links.0), bob \(links.1)")
        #expect(await alice.engine.state == .connected(.p2p), "the call did not survive: \(alice.events.log)")
        // The restarted server carries the hang-up to the peer.
        await alice.engine.hangUp()
        let ended = await bob.events.waitFor(timeout: .seconds(15)) { if case .state(.ended) = $0 { true } else { false } }
        #expect(ended == .state(.ended(.hungUpByPeer)), "\(bob.events.log)")
        await alice.close()
        await bob.close()
        try await second.stop()
    }
}

/// The server going away in the middle of a group call (docs/server.md "Restarting the server during calls"): the SFU's rooms and
/// legs die with it, so each device, once its signaling is back, enters the call again on a
/// new leg and rekeys; the others hear it under the new key.
@Suite("Group calls across a server restart", .serialized)
struct GroupCallServerRestartTests {
    /// Starts a call of `count` members that all hear each other.
    static func callOfHearingMembers(_ count: Int, base: Int, on server: TestServer) async throws -> (
        members: [GroupTestDevice], callID: String
    ) {
        let members = try await GroupCallTests.makeDevices(count, base: base, on: server)
        let group = try await members[0].session.connection.createGroup(name: "Restart", members: members.dropFirst().map(\.number))
        let info = try await members[0].engine.start(group: group.id, callID: "restart-\(base)")
        for member in members.dropFirst() { _ = try await member.engine.join(callID: info.callID) }
        for member in members {
            let others = members.filter { $0.number != member.number }
            let heard = await eventually(timeout: .seconds(60)) { await GroupCallTests.hears(member, others) }
            #expect(heard, "\(member.number) does not hear everyone before the break:\n\(member.events.log)")
        }
        return (members, info.callID)
    }

    /// The epoch of `member`'s rekey after rejoining, once it happened.
    static func rejoinEpoch(_ member: GroupTestDevice) -> UInt16? {
        member.events.events.lazy.compactMap { if case let .rekey(.rejoined, epoch) = $0 { epoch } else { nil } }.last
    }

    /// `rejoining` rejoined and rekeyed after the break, everyone is in one room of `callID`
    /// again, and each hears every other voice under the key it sends under now (a rejoiner's
    /// after the break), at least a second of it.
    static func expectBackAndHeard(_ members: [GroupTestDevice], rejoining: [GroupTestDevice], callID: String) async {
        for member in rejoining {
            let back = await eventually(timeout: .seconds(60)) { rejoinEpoch(member) != nil }
            #expect(back, "\(member.number) did not rejoin and rekey:\n\(member.events.log)")
        }
        let everyone = Set(members.map(\.number))
        let inOneRoom = await eventually(timeout: .seconds(30)) {
            for member in members {
                guard let snapshot = await member.engine.snapshot(), snapshot.callID == callID,
                    Set(snapshot.participants) == everyone
                else { return false }
            }
            return true
        }
        #expect(inOneRoom, "the members are not all back in \(callID)")
        var sending: [String: UInt16] = [:]
        for member in members { sending[member.number] = max(rejoinEpoch(member) ?? 0, await member.engine.snapshot()?.epoch ?? 0) }
        let base = await GroupCallTests.received(members)
        for member in members {
            let others = members.filter { $0.number != member.number }
            let heard = await eventually(timeout: .seconds(60)) {
                guard let snapshot = await member.engine.snapshot() else { return false }
                return others.allSatisfy { other in
                    guard let hearing = snapshot.hearing[other.number] else { return false }
                    return hearing.heard && (hearing.epoch ?? 0) >= sending[other.number] ?? 0
                        && hearing.received >= (base[member.number]?[other.number] ?? 0) + 50
                }
            }
            let state = await member.engine.snapshot()
            #expect(
                heard,
                "\(member.number) does not hear everyone under their current keys \(sending): \(String(describing: state?.hearing))\n\(member.events.log)"
            )
        }
    }

    @Test func membersRejoinAndRekeyAfterTheServerRestarts() async throws {
        let first = try await TestServer.start()
        let signaling = first.address, media = first.app.mediaAddress
        let (members, callID) = try await Self.callOfHearingMembers(3, base: 4950, on: first)
        let epochsBefore = await members.asyncMap { await $0.engine.snapshot()?.epoch }

        try await first.stop(keepingData: true)
        for member in members {
            #expect(
                await eventually(timeout: .seconds(10)) { await member.session.link != .connected },
                "\(member.number) never noticed the server go")
        }
        // What the restarted SFU routes, by sender: the epoch in each frame's SFrame KID.
        let routed = Mutex<[(member: String, epoch: UInt16)]>([])
        let witness = MediaWitness(
            relayed: { _ in },
            routed: { _, member, packet in
                guard let header = try? SFrameHeader.decode(packet.payload).header else { return }
                routed.withLock { $0.append((member, UInt16(truncatingIfNeeded: header.keyID))) }
            })
        let second = try await TestServer.start(
            dataDirectory: first.dataDirectory, signaling: signaling, media: media, mediaWitness: witness)
        await Self.expectBackAndHeard(members, rejoining: members, callID: callID)
        // The new legs carried nothing under a key from before the break: frames wait for the new key.
        let frames = routed.withLock { $0 }
        #expect(frames.count > 100)
        for member in members {
            let early = frames.filter { $0.member == member.number && $0.epoch < (Self.rejoinEpoch(member) ?? .max) }
            #expect(early.isEmpty, "\(member.number) sent \(early.count) frames on its new leg under keys from before the break")
        }
        for (member, before) in zip(members, epochsBefore) {
            let after = await member.engine.snapshot()?.epoch
            #expect(after != nil && after != before, "\(member.number) still sends under epoch \(String(describing: before))")
        }
        for member in members { await member.close() }
        try await second.stop()
    }

    /// The server stays up but one device's connection drops: the server drops it from the
    /// room (the others rekey, it left), and once reconnected it comes back, so everyone
    /// hears it again under its new key — the others have forgotten its old channel.
    @Test func aMemberWhoseConnectionDropsComesBackIntoTheCall() async throws {
        let server = try await TestServer.start()
        let (members, callID) = try await Self.callOfHearingMembers(3, base: 4960, on: server)
        let dropped = members[2]
        await dropped.session.connection.dropForTesting()
        for member in members.prefix(2) {
            let left = await eventually(timeout: .seconds(30)) { member.events.events.contains(.left(dropped.number)) }
            #expect(left, "\(member.number) was not told \(dropped.number) left:\n\(member.events.log)")
        }
        await Self.expectBackAndHeard(members, rejoining: [dropped], callID: callID)
        for member in members { await member.close() }
        try await server.stop()
    }
}

extension Array {
    /// `transform` applied to each element in order, awaiting each.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
