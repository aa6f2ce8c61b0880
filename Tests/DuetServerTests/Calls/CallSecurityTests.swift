import DuetCrypto
import DuetServer
import DuetWire
import Foundation
import Synchronization
import Testing

@testable import DuetClient

/// An attacker on the path and a changed identity key: what the call engine refuses.
@Suite("1:1 call security")
struct CallSecurityTests {
    /// Packets replayed or altered by someone on the network are dropped, counted in the
    /// hearing report, and the call carries on.
    @Test func tamperedAndReplayedMediaAreRejectedAndCounted() async throws {
        let server = try await TestServer.start()
        let captured = Mutex<[[UInt8]]>([])
        var answering = CallOptions.autoAnswering
        answering.peerDatagramTap = { bytes in
            if case .rtp = MediaPacketKind(datagram: bytes) { captured.withLock { $0.append(bytes) } }
        }
        let alice = try await CallTestDevice.make("+15552201", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552202", name: "Bob", on: server, options: answering)
        try await alice.engine.place(to: bob.number)
        guard case let .path(.p2p, bobAddress)? = await alice.events.waitFor({ if case .path = $0 { true } else { false } }) else {
            Issue.record("no direct path: \(alice.events.log)")
            return
        }
        #expect(await bob.events.waitForHearing(alice.number) != nil)

        let attacker = try await UDPTestSocket.bind()
        let seen = captured.withLock { $0 }
        #expect(seen.count > 20)
        // Replays of packets Bob took in (the caller's very first ones can reach Bob before his
        // media starts, and are then new to his SRTP context, not replays).
        for packet in seen.dropFirst(10).prefix(5) { try await attacker.send(packet, to: bobAddress) }
        // Altered packets ahead of the stream (libsrtp checks replay before authentication,
        // so an altered copy of a packet already seen counts as a replay).
        for (offset, packet) in [(1000, seen[seen.count - 1]), (2000, seen[seen.count - 2])] {
            var altered = packet
            let sequence = (UInt16(altered[2]) << 8 | UInt16(altered[3])) &+ UInt16(offset)
            altered[2] = UInt8(sequence >> 8)
            altered[3] = UInt8(sequence & 0xFF)
            altered[altered.count - 12] ^= 0x40
            try await attacker.send(altered, to: bobAddress)
        }
        try await attacker.send([0x80, 0x6F] + [UInt8](repeating: 0xAB, count: 60), to: bobAddress)  // forged

        let counted = await bob.events.waitFor { event in
            if case let .hearing(report) = event { report.replayedPackets == 5 && report.tamperedPackets == 3 } else { false }
        }
        #expect(counted != nil, "bob: \(bob.events.log)")
        #expect(bob.events.lastHearing?.speaker?.contains(alice.number) == true, "the call carries on")
        #expect(await bob.engine.state == .connected(.p2p))
        await attacker.close()
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    @Test func callingAContactWhoseKeyChangedWarnsBeforeRinging() async throws {
        let server = try await TestServer.start(openRegistration: true)
        let alice = try await CallTestDevice.make("+15552211", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552212", name: "Bob", on: server, options: .autoAnswering)
        try await alice.addContact(bob, name: "Bob")
        #expect(try alice.store.markVerified(number: bob.number, key: try bob.store.identityPublicKey()))
        await bob.close()

        // Bob's number now belongs to a new key (a reinstall, or someone else).
        let newBob = try await CallTestDevice.make(bob.number, name: "Bob", on: server, options: .autoAnswering)
        await #expect(throws: CallError.contactKeyChanged(bob.number)) { try await alice.engine.place(to: bob.number) }
        #expect(
            await alice.events.waitFor {
                if case let .notice(notice) = $0 { notice.kind == .identityKeyChanged(number: bob.number) } else { false }
            } != nil)
        #expect(!newBob.events.events.contains { if case .incoming = $0 { true } else { false } }, "nothing rang")
        guard case .keyChanged = try alice.store.contact(number: bob.number)?.trust else {
            Issue.record("the contact should be marked KEY CHANGED")
            return
        }

        // Deliberately calling anyway works, and the callee sees an unverified caller.
        try await alice.engine.place(to: bob.number, acceptKeyChange: true)
        #expect(await alice.events.waitForConnected() == .p2p)
        await alice.close()
        await newBob.close()
        try await server.stop()
    }
}

/// Whatever another registered device sends as call signals, the engine refuses it with a
/// warning and stays ready for a real call.
@Suite("1:1 call engine against hostile signals")
struct HostileCallSignalTests {
    @Test func malformedSignalsAreRefusedAndTheEngineCarriesOn() async throws {
        let server = try await TestServer.start()
        let bob = try await CallTestDevice.make("+15552251", name: "Bob", on: server, options: .autoAnswering)
        let mallory = TestDevice()
        let (raw, _) = try await mallory.connect(to: server)
        try await mallory.register(raw, as: "+15552252")

        let invitation = CallInvitation(
            callID: "c1", callerNumber: "+15552252", callerIdentityKey: Data(repeating: 1, count: 32),
            ephemeralKey: Data(repeating: 2, count: 33), signedPrekeyID: 1, oneTimePrekeyID: 5,
            sealedOffer: Data(repeating: 3, count: 80))
        let forged = try Array(JSONEncoder().encode(invitation))
        let signals: [(String, String, [UInt8])] = [
            ("c0", "invite", Array("not json".utf8)),
            ("c1", "invite", forged),  // keys that do not agree: the offer does not open
            ("other-id", "invite", forged),  // call id differs from the envelope
            ("c1", "relay-address", Array(#"{"kind":"host","ip":[1,2,3],"port":9}"#.utf8)),
            ("c1", "answer", [UInt8](repeating: 0xFF, count: 64)),
            ("c1", "confirm", []),
            ("c1", "hangup", []),
            ("c1", "no-such-kind", [1, 2, 3])
        ]
        for (callID, kind, payload) in signals {
            try await raw.sendCallSignal(to: bob.number, callID: callID, kind: kind, payload: payload)
        }
        let refused = await bob.events.waitFor(count: 3) {
            if case let .notice(notice) = $0 { notice.kind == .refused && notice.text.contains("refused a call") } else { false }
        }
        #expect(refused, "bob: \(bob.events.log)")
        #expect(await bob.engine.state == .idle)
        #expect(try bob.store.oneTimePrekeyCount() == 100, "a forged call burns no one-time prekey")

        // A real caller still gets through.
        let alice = try await CallTestDevice.make("+15552253", name: "Alice", on: server)
        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .p2p, "alice: \(alice.events.log)")
        await raw.close()
        await alice.close()
        await bob.close()
        try await server.stop()
    }
}
