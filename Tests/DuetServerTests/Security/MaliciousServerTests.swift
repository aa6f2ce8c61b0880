import DuetCrypto
import DuetServer
import Foundation
import Testing

@testable import DuetClient

/// docs/SECURITY.md "The signaling server and its directory": what a server that turns on its users can and cannot do. The server here is
/// the real one, running; the attack is an edit of its SQLite file while it runs
/// (`TamperedDirectory`), so the devices see exactly what a lying server would answer, and
/// no key-change notice is sent: whatever catches the attack is the device's own check.
@Suite("Security: a malicious server", .serialized)
struct MaliciousServerTests {
    /// Alice verified Bob. The server then hands out Mallory's bundle as Bob's — first only
    /// the identity key (its prekeys then fail their signature check), then a complete,
    /// validly signed bundle. Alice's device refuses to ring before sending anything, marks
    /// Bob KEY CHANGED, and the safety number it shows no longer matches Bob's screen. Waved
    /// through on purpose, the offer is sealed to keys Bob's device does not hold, so Bob
    /// cannot be rung by it and only the impostor could answer — which SAS would expose.
    @Test func aSwappedBundleIsCaughtAsAKeyChangeBeforeAnyRing() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552301", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552302", name: "Bob", on: server, options: .autoAnswering)
        try await alice.addContact(bob, name: "Bob")
        try await bob.addContact(alice, name: "Alice")
        let (seenByAlice, contact) = try await alice.session.safetyNumber(with: bob.number)
        let (seenByBob, _) = try await bob.session.safetyNumber(with: alice.number)
        #expect(seenByAlice == seenByBob, "two screens, one number")
        #expect(try alice.store.markVerified(number: bob.number, key: try #require(contact.identityKey)))

        let mallory = TestDevice(oneTimePrekeyCount: 5)
        let tampered = try TamperedDirectory(server)

        // 1. Only the identity key swapped: the bundle's signed prekey is not signed by it.
        try tampered.replaceIdentityKey(of: bob.number, with: mallory.identity.publicKey)
        await #expect(throws: ServerConnectionError.self) { try await alice.engine.place(to: bob.number, acceptKeyChange: true) }
        #expect(await alice.engine.state == .idle)

        // 2. A whole bundle, signed by Mallory's key: refused as a key change before ringing.
        try tampered.replaceBundle(of: bob.number, with: mallory)
        await #expect(throws: CallError.contactKeyChanged(bob.number)) { try await alice.engine.place(to: bob.number) }
        #expect(
            await alice.events.waitFor {
                if case .notice(let notice) = $0 { notice.kind == .identityKeyChanged(number: bob.number) } else { false }
            } != nil)
        #expect(await alice.engine.state == .idle, "no call was set up")
        guard case .keyChanged = try alice.store.contact(number: bob.number)?.trust else {
            Issue.record("Bob should be KEY CHANGED on Alice's device")
            return
        }
        #expect(try alice.store.contact(number: bob.number)?.identityKey == mallory.identity.publicKey)
        // The safety number Alice would now read out is not the one on Bob's screen.
        let (nowSeenByAlice, _) = try await alice.session.safetyNumber(with: bob.number)
        let (nowSeenByBob, _) = try await bob.session.safetyNumber(with: alice.number)
        #expect(nowSeenByAlice != seenByAlice)
        #expect(nowSeenByAlice != nowSeenByBob)
        #expect(nowSeenByBob == seenByBob, "Bob's own view did not change")
        // Verifying against the old number cannot bless the new key.
        #expect(try !alice.store.markVerified(number: bob.number, key: try #require(contact.identityKey)))

        // 3. Called anyway: the offer is sealed to Mallory's keys, so Bob's device cannot open
        // it, refuses it, and burns none of its own one-time prekeys. (Bob's device may top up
        // meanwhile: the server, holding only Mallory's five, tells it its prekeys run low.)
        let bobPrekeys = Set(try bob.store.oneTimePrekeysForUpload().map(\.id))
        try await alice.engine.place(to: bob.number, acceptKeyChange: true)
        let refused = await bob.events.waitFor {
            if case let .notice(notice) = $0 {
                notice.kind == .refused && notice.text.contains("refused a call from \(alice.number)")
            } else {
                false
            }
        }
        #expect(refused != nil, "bob: \(bob.events.log)")
        #expect(!bob.events.events.contains { if case .incoming = $0 { true } else { false } }, "nothing rang on Bob's device")
        #expect(bobPrekeys.isSubset(of: Set(try bob.store.oneTimePrekeysForUpload().map(\.id))))
        #expect(alice.events.sas == nil, "no key was confirmed")
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    /// The same swap before a group call: Alice's pairwise channel to each member is opened
    /// with the bundle the server gives, so that is where the swap shows. Alice warns and keeps
    /// her sender key from the impostor's keys (the server, as SFU, routes every frame: with
    /// that key it would hear her); Carol, whose key did not change, gets it and hears her.
    /// (The swap binds Bob's number to the impostor's key, so Bob's own device is no longer
    /// Bob to the server and cannot join: a key handed out at the start is what is at stake.)
    @Test func aSwappedBundleKeepsTheGroupSenderKeyFromTheImpostor() async throws {
        let server = try await TestServer.start()
        let alice = try await GroupTestDevice.make("+15552311", name: "Alice", on: server)
        let bob = try await GroupTestDevice.make("+15552312", name: "Bob", on: server)
        let carol = try await GroupTestDevice.make("+15552313", name: "Carol", on: server)
        for other in [bob, carol] { _ = try await alice.session.addContact(number: other.number, name: nil) }
        let (_, contact) = try await alice.session.safetyNumber(with: bob.number)
        #expect(try alice.session.store.markVerified(number: bob.number, key: try #require(contact.identityKey)))
        let group = try await alice.session.connection.createGroup(name: "Trio", members: [bob.number, carol.number])

        try TamperedDirectory(server).replaceBundle(of: bob.number, with: TestDevice(oneTimePrekeyCount: 5))
        let info = try await alice.engine.start(group: group.id, callID: "trio-swap")
        _ = try await carol.engine.join(callID: info.callID)

        let warned = await eventually {
            alice.events.events.contains(
                .notice(.warning(.keyWithheld(member: bob.number), GroupCallEngine.keyChangedWithheld(bob.number))))
        }
        #expect(warned, "alice:\n\(alice.events.log)")
        #expect(await eventually { await GroupCallTests.hears(carol, [alice]) }, "carol:\n\(carol.events.log)")
        let snapshot = try #require(await alice.engine.snapshot())
        #expect(snapshot.keyGiven[bob.number] == nil, "Alice's sender key went to Bob's swapped bundle")
        #expect(snapshot.keyGiven[carol.number] != nil)
        guard case .keyChanged = try alice.session.store.contact(number: bob.number)?.trust else {
            Issue.record("Bob should be KEY CHANGED on Alice's device")
            return
        }
        for device in [alice, bob, carol] { await device.close() }
        try await server.stop()
    }

    /// One-time prekeys on the device: the private half is deleted in the transaction that
    /// uses it. A server that hands the same one-time prekey out again (put back in its
    /// SQLite file after Alice's call used it) gets Carol's call refused by Bob's device:
    /// the second offer naming it cannot be answered, and nothing rings.
    @Test func aOneTimePrekeyHandedOutTwiceOpensOneCallOnly() async throws {
        let server = try await TestServer.start()
        let bob = try await CallTestDevice.make("+15552321", name: "Bob", on: server, options: .autoAnswering)
        let alice = try await CallTestDevice.make("+15552322", name: "Alice", on: server)
        let carol = try await CallTestDevice.make("+15552323", name: "Carol", on: server)
        let tampered = try TamperedDirectory(server)
        let next = try #require(try tampered.oneTimePrekeyIDs(of: bob.number).first)
        let used = try #require(try bob.store.oneTimePrekeysForUpload().first { $0.id == next })

        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .p2p)
        #expect(try !bob.store.oneTimePrekeysForUpload().contains(used), "the private half is gone once used")
        #expect(try bob.store.oneTimePrekeyCount() == 99)
        #expect(throws: DeviceStoreError.unknownOneTimePrekey(id: used.id)) { try bob.store.consumeOneTimePrekey(id: used.id) { _ in () } }
        await alice.engine.hangUp()
        #expect(await bob.events.waitForEnd() == .hungUpByPeer)

        try tampered.reissue(used, of: bob.number)
        try await carol.engine.place(to: bob.number)
        #expect(try !tampered.oneTimePrekeyIDs(of: bob.number).contains(used.id), "Carol's bundle carried the reused key")
        let refused = await bob.events.waitFor { event in
            if case let .notice(notice) = event {
                notice.kind == .refused && notice.text.contains("refused a call from \(carol.number)")
                    && notice.text.contains("one-time prekey \(used.id)")
            } else {
                false
            }
        }
        #expect(refused != nil, "bob: \(bob.events.log)")
        #expect(bob.events.events.filter { if case .incoming = $0 { true } else { false } }.count == 1, "only Alice's call rang")
        #expect(carol.events.sas == nil && !carol.events.events.contains { if case .state(.connected) = $0 { true } else { false } })
        await carol.engine.hangUp()
        for device in [alice, bob, carol] { await device.close() }
        try await server.stop()
    }
}
