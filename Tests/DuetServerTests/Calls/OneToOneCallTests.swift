import DuetCrypto
import DuetMedia
import DuetServer
import DuetWire
import Foundation
import Synchronization
import Testing

@testable import DuetClient

/// 1:1 calls end to end (docs/ARCHITECTURE.md "Calls"): two devices with real stores, a real server, real UDP
/// on loopback, X3DH, SRTP and Opus — and what each side hears.
@Suite("1:1 calls")
struct OneToOneCallTests {
    /// X3DH's secret (both sides) and the caller's ephemeral private key leave the devices as
    /// soon as both hold the call's keys, long before hang-up: weak references taken while Bob's
    /// phone rings, so a copy held anywhere — a phase, a local across an await — would show.
    @Test func theX3DHSecretsAreReleasedOnceBothDevicesHoldTheCallsKeys() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552011", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552012", name: "Bob", on: server)
        try await alice.engine.place(to: bob.number)
        #expect(await bob.events.waitFor { if case .incoming = $0 { true } else { false } } != nil)
        let aliceHandshake = SecretWatch(await alice.engine.handshakeSecrets())
        let bobHandshake = SecretWatch(await bob.engine.handshakeSecrets())
        #expect(aliceHandshake.watched == 2 && bobHandshake.watched == 1)
        await bob.engine.accept()
        #expect(await alice.events.waitForHearing(bob.number) != nil)
        #expect(await bob.events.waitForHearing(alice.number) != nil)
        #expect(aliceHandshake.alive == 0, "the caller still holds X3DH's secrets in a connected call")
        #expect(bobHandshake.alive == 0, "the callee still holds X3DH's secret in a connected call")
        #expect(await alice.engine.state.isActive)
        await alice.engine.hangUp()
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    @Test func aDirectCallConnectsPeerToPeerAndEachSideHearsTheOther() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552001", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552002", name: "Bob", on: server, options: .autoAnswering)
        try await alice.addContact(bob, name: "Bob")
        #expect(try bob.store.oneTimePrekeyCount() == 100)

        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .p2p)
        #expect(await bob.events.waitForConnected() == .p2p)
        let aliceHears = await alice.events.waitForHearing(bob.number)
        let bobHears = await bob.events.waitForHearing(alice.number)
        #expect(aliceHears?.speaker == "Bob (+15552002)", "alice: \(alice.events.log)")
        #expect(bobHears?.speaker == "+15552001", "bob: \(bob.events.log)")  // Alice is not in Bob's contacts
        #expect((aliceHears?.level ?? -100) > -40)

        // Both sides derived the same short authentication string.
        let aliceSAS = alice.events.sas, bobSAS = bob.events.sas
        #expect(aliceSAS != nil && aliceSAS == bobSAS)

        // Every secret object of the call is released once it ends.
        let aliceSecrets = await SecretWatch(alice.engine), bobSecrets = await SecretWatch(bob.engine)
        #expect(aliceSecrets.watched >= 7 && bobSecrets.watched >= 7)
        await alice.engine.hangUp()
        #expect(await alice.events.waitForEnd() == .hungUp)
        #expect(await bob.events.waitForEnd() == .hungUpByPeer)
        #expect(aliceSecrets.alive == 0)
        #expect(bobSecrets.alive == 0)
        // Bob's one-time prekey that Alice's call used is gone from his device.
        #expect(try bob.store.oneTimePrekeyCount() == 99)

        await alice.close()
        await bob.close()
        try await server.stop()
    }

    @Test func forcedRelayConnectsThroughTheServersRelay() async throws {
        let server = try await TestServer.start()
        var relayed = CallOptions()
        relayed.forceRelay = true
        let alice = try await CallTestDevice.make("+15552011", name: "Alice", on: server, options: relayed)
        let bob = try await CallTestDevice.make("+15552012", name: "Bob", on: server, options: .autoAnswering)

        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .relay(.udp))
        #expect(await bob.events.waitForConnected() == .relay(.udp), "the offer tells the callee to use the relay too")
        #expect(await alice.events.waitForHearing(bob.number) != nil, "alice: \(alice.events.log)")
        #expect(await bob.events.waitForHearing(alice.number) != nil, "bob: \(bob.events.log)")
        await bob.engine.hangUp()
        #expect(await alice.events.waitForEnd() == .hungUpByPeer)
        #expect(await bob.events.waitForEnd() == .hungUp)
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    @Test func whenDirectPacketsAreDroppedTheCallFallsBackToTheRelay() async throws {
        let server = try await TestServer.start()
        var firewalled = CallOptions()
        firewalled.blockDirectTraffic = true
        var answering = firewalled
        answering.autoAnswer = true
        let alice = try await CallTestDevice.make("+15552021", name: "Alice", on: server, options: firewalled)
        let bob = try await CallTestDevice.make("+15552022", name: "Bob", on: server, options: answering)

        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .relay(.udp), "alice: \(alice.events.log)")
        #expect(await bob.events.waitForConnected() == .relay(.udp))
        #expect(await alice.events.waitForHearing(bob.number) != nil)
        #expect(await bob.events.waitForHearing(alice.number) != nil)
        await alice.engine.hangUp()
        #expect(await bob.events.waitForEnd() == .hungUpByPeer)
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    /// What the relay forwards is SRTP: with the keys (from the debug key log) the payloads
    /// are exactly Alice's Opus frames; without them none of them is.
    @Test func theRelayForwardsCiphertextOnly() async throws {
        let server = try await TestServer.start()
        let keyLog = FileManager.default.temporaryDirectory.appendingPathComponent("duet-keylog-\(UUID().uuidString)").path
        var caller = CallOptions()
        caller.forceRelay = true
        caller.keyLogPath = keyLog
        let captured = Mutex<[[UInt8]]>([])
        var answering = CallOptions.autoAnswering
        answering.peerDatagramTap = { bytes in
            if case .rtp = MediaPacketKind(datagram: bytes) { captured.withLock { $0.append(bytes) } }
        }
        let alice = try await CallTestDevice.make("+15552031", name: "Alice", on: server, options: caller)
        let bob = try await CallTestDevice.make("+15552032", name: "Bob", on: server, options: answering)
        try await alice.engine.place(to: bob.number)
        #expect(await bob.events.waitForConnected() == .relay(.udp))
        #expect(await bob.events.waitForHearing(alice.number) != nil)
        #expect(await alice.events.waitFor { $0 == .notPrivate(.keysLoggedHere(path: keyLog)) } != nil)
        #expect(await bob.events.waitFor { $0 == .notPrivate(.keysLoggedByPeer) } != nil, "Bob's screen says it too")
        for _ in 0..<500 where captured.withLock({ $0.count }) < 100 { try await Task.sleep(for: .milliseconds(20)) }
        await alice.engine.hangUp()
        _ = await bob.events.waitForEnd()

        // Alice's first frames, encoded as her engine encodes them (Opus is deterministic).
        var voice = SyntheticVoice(number: alice.number)
        let encoder = try OpusEncoder(configuration: .init())
        let plainFrames = Set(try (0..<100).map { _ in try encoder.encode(voice.nextFrame()) })

        let packets = captured.withLock { $0 }
        #expect(packets.count >= 100)
        let onTheWire = packets.compactMap { try? RTPPacket(parsing: $0).payload }
        #expect(onTheWire.filter(plainFrames.contains).isEmpty, "a relayed payload is a plaintext Opus frame")

        // The key log line for Alice's sending stream decrypts what the relay carried.
        let line = try #require(try String(contentsOfFile: keyLog, encoding: .utf8).split(separator: "\n").first { $0.contains(" send ") })
        let key = try #require(line.split(separator: ":").last.flatMap { Data(base64Encoded: String($0)) })
        let receiver = try SRTPSession(role: .receiver, masterKey: SecureBytes(copying: key))
        let decrypted = packets.compactMap { try? receiver.unprotect($0) }.compactMap { try? RTPPacket(parsing: $0).payload }
        #expect(decrypted.count == packets.count)
        #expect(decrypted.filter(plainFrames.contains).count >= 40, "decrypted payloads should be Alice's frames")
        try? FileManager.default.removeItem(atPath: keyLog)
        await alice.close()
        await bob.close()
        try await server.stop()
    }
}
