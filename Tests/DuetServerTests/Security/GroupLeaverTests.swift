import DuetServer
import Foundation
import Testing

@testable import DuetClient

/// What a member who left a group call can still get (docs/SECURITY.md, "Group membership").
@Suite("Security: a member who left the call", .serialized)
struct GroupLeaverTests {
    /// Alice, Bob, Carol and Dave are in a call. Dave leaves (everyone rekeys without him), then
    /// Carol leaves (everyone rekeys again). Dave is still in the group, so he may come back —
    /// but until he does he is given neither rekey: no sender key of the second epoch reaches
    /// his device, and Alice and Bob record none given to him.
    @Test func aMemberWhoLeftIsNotGivenTheNextRekey() async throws {
        let server = try await TestServer.start()
        let alice = try await GroupTestDevice.make("+15552441", name: "Alice", on: server)
        let bob = try await GroupTestDevice.make("+15552442", name: "Bob", on: server)
        let carol = try await GroupTestDevice.make("+15552443", name: "Carol", on: server)
        let dave = try await GroupTestDevice.make("+15552444", name: "Dave", on: server)
        let group = try await alice.session.connection.createGroup(name: "Four", members: [bob.number, carol.number, dave.number])
        let info = try await alice.engine.start(group: group.id, callID: "leaver-rekeys")
        for device in [bob, carol, dave] { _ = try await device.engine.join(callID: info.callID) }
        for device in [alice, bob, carol, dave] {
            #expect(
                await eventually { await GroupCallTests.hears(device, [alice, bob, carol, dave].filter { $0.number != device.number }) })
        }

        await dave.engine.leave()
        for device in [alice, bob] {
            #expect(await eventually { await device.engine.snapshot()?.epoch == 1 }, "\(device.number):\n\(device.events.log)")
        }
        await carol.engine.leave()
        for device in [alice, bob] {
            #expect(await eventually { await device.engine.snapshot()?.epoch == 2 }, "\(device.number):\n\(device.events.log)")
            let other = [alice, bob].filter { $0.number != device.number }
            #expect(await eventually { await GroupCallTests.hears(device, other, epochAtLeast: 2) })
            #expect(await device.engine.snapshot()?.keyGiven[dave.number] == nil, "\(device.number) gave Dave a key after he left")
        }
        let reachedDave = await dave.engine.early.filter { $0.callID == info.callID }.count
        #expect(reachedDave == 0, "sender-key signals reached Dave after he left")
        for device in [alice, bob, carol, dave] { await device.close() }
        try await server.stop()
    }
}

/// What a server can do with sender-key messages it carries (docs/SECURITY.md, "Group calls").
@Suite("Security: a replayed sender-key message", .serialized)
struct SenderKeyReplayTests {
    /// Bob's one-time prekeys are drained, so Alice's channel to him is opened without one. After
    /// a rekey the server sends Bob Alice's first message again (channel header and all). Bob
    /// refuses it: Alice's retired key does not come back, her old frames do not open again,
    /// and Bob goes on hearing her under her current key.
    @Test func aReplayedFirstMessageDoesNotReinstateARetiredKey() async throws {
        let server = try await TestServer.start()
        let alice = try await GroupTestDevice.make("+15552451", name: "Alice", on: server)
        let bob = try await GroupTestDevice.make("+15552452", name: "Bob", on: server)
        let dave = try await GroupTestDevice.make("+15552453", name: "Dave", on: server)
        let group = try await alice.session.connection.createGroup(name: "Trio", members: [bob.number, dave.number])
        try TamperedDirectory(server).drainOneTimePrekeys(of: bob.number)
        await bob.engine.setCapture(true)
        let info = try await alice.engine.start(group: group.id, callID: "replayed-first")
        for device in [bob, dave] { _ = try await device.engine.join(callID: info.callID) }
        #expect(await eventually { await GroupCallTests.hears(bob, [alice]) }, "bob:\n\(bob.events.log)")
        let first = try #require(await bob.engine.receivedSignals().first { $0.from == alice.number })
        let oldFrame = try #require(await bob.engine.capturedPayloads()[alice.number]?.first)

        await dave.engine.leave()
        #expect(await eventually { await GroupCallTests.hears(bob, [alice], epochAtLeast: 1) }, "bob:\n\(bob.events.log)")
        try await Task.sleep(for: .seconds(1.5))  // past the ring's overlap: epoch 0 is retired
        let ring = try #require(await bob.engine.senderKeyRing)
        #expect(throws: (any Error).self) { try ring.decrypt(oldFrame, from: alice.number) }

        await bob.engine.handle(DeviceSession.GroupCallNews.senderKey(first))
        let refused = await eventually {
            bob.events.events.contains {
                if case let .notice(notice) = $0 {
                    notice.kind == .refused && notice.text.contains("ignored a sender key from \(alice.number)")
                } else {
                    false
                }
            }
        }
        #expect(refused, "bob:\n\(bob.events.log)")
        #expect(bob.events.events.filter { $0 == .keyReceived(from: alice.number, epoch: 0) }.count == 1, "epoch 0 installed once")
        #expect(throws: (any Error).self, "a retired key opens old frames again") { try ring.decrypt(oldFrame, from: alice.number) }
        let since = await GroupCallTests.received([bob])[bob.number] ?? [:]
        #expect(await eventually { await GroupCallTests.hears(bob, [alice], epochAtLeast: 1, receivedSince: since) })
        for device in [alice, bob, dave] { await device.close() }
        try await server.stop()
    }
}
