import DuetCrypto
import DuetWire
import Testing

@testable import DuetMedia

@Suite("DTLS-SRTP endpoint")
struct DTLSEndpointTests {
    /// One RTP packet of an Opus-sized payload.
    static func rtpPacket(sequence: UInt16 = 7) throws -> [UInt8] {
        var packetizer = RTPPacketizer(ssrc: 0xC0FF_EE00, initialSequenceNumber: sequence, initialTimestamp: 0)
        return try packetizer.packetize(Array(repeating: 0x5A, count: 120)).serialized()
    }

    @Test func handshakeGivesBothSidesTheSameKeysAndSRTPWorksAcross() async throws {
        let link = try DTLSTestLink()
        try await link.run()
        let client = try #require(link.clientKeys), server = try #require(link.serverKeys)
        #expect(link.client.state == .connected && link.server.state == .connected)
        #expect(client.keyingMaterial.count == 60)
        #expect(client.keyingMaterial.bytes == server.keyingMaterial.bytes)
        #expect(client.profile == .aesCM128HMACSHA1_80 && server.profile == .aesCM128HMACSHA1_80)
        // RFC 5764 §4.2: client key ‖ server key ‖ client salt ‖ server salt.
        let km = client.keyingMaterial.bytes
        #expect(client.localSending.bytes == Array(km[0..<16] + km[32..<46]))
        #expect(client.remoteSending.bytes == Array(km[16..<32] + km[46..<60]))
        #expect(client.localSending.bytes == server.remoteSending.bytes)
        #expect(client.remoteSending.bytes == server.localSending.bytes)
        #expect(client.localSending.bytes != client.remoteSending.bytes)
        #expect(client.peerFingerprint == link.serverCertificate.fingerprint)
        #expect(server.peerFingerprint == link.clientCertificate.fingerprint)
        // Every datagram respects the MTU.
        #expect(link.sent.allSatisfy { $0.datagram.count <= 1200 })

        let (clientSender, clientReceiver) = try client.makeSessions()
        let (serverSender, serverReceiver) = try server.makeSessions()
        let packet = try Self.rtpPacket()
        #expect(try serverReceiver.unprotect(clientSender.protect(packet)) == packet)
        #expect(try clientReceiver.unprotect(serverSender.protect(packet)) == packet)
        // A packet keyed for the other direction does not authenticate.
        let (_, otherReceiver) = try server.makeSessions()
        #expect(throws: SRTPError.authenticationFailed) { try otherReceiver.unprotect(serverSender.protect(Self.rtpPacket(sequence: 8))) }
    }

    @Test func eachHandshakeExportsFreshKeys() async throws {
        let first = try DTLSTestLink(), second = try DTLSTestLink()
        try await first.run()
        try await second.run()
        #expect(try #require(first.clientKeys).keyingMaterial.bytes != #require(second.clientKeys).keyingMaterial.bytes)
    }

    @Test func gcmIsAgreedWhenBothPreferIt() async throws {
        let both: [SRTPProfile] = [.aeadAES128GCM, .aesCM128HMACSHA1_80]
        let link = try DTLSTestLink(clientProfiles: both, serverProfiles: both)
        try await link.run()
        let client = try #require(link.clientKeys), server = try #require(link.serverKeys)
        #expect(client.profile == .aeadAES128GCM)
        #expect(client.keyingMaterial.count == 56 && client.localSending.count == 28)
        let (sender, _) = try client.makeSessions()
        let (_, receiver) = try server.makeSessions()
        let packet = try Self.rtpPacket()
        #expect(try receiver.unprotect(sender.protect(packet)) == packet)
    }

    @Test func clientRejectsAServerWithTheWrongFingerprint() async throws {
        let impostor = try DTLSCertificate()
        let link = try DTLSTestLink(clientExpects: impostor.fingerprint)
        try await link.run()
        #expect(link.clientKeys == nil)
        let failure = try #require(link.clientFailure)
        #expect(failure == .fingerprintMismatch(expected: impostor.fingerprint, got: link.serverCertificate.fingerprint))
        #expect(failure.description.contains(impostor.fingerprint.description))
        #expect(link.client.state == .failed(failure))
        // The server finished first, then heard the client's close_notify.
        #expect(link.serverClosed)
    }

    @Test func serverRejectsAClientWithTheWrongFingerprint() async throws {
        let impostor = try DTLSCertificate()
        let link = try DTLSTestLink(serverExpects: impostor.fingerprint)
        try await link.run()
        #expect(link.serverKeys == nil)
        #expect(link.serverFailure == .fingerprintMismatch(expected: impostor.fingerprint, got: link.clientCertificate.fingerprint))
    }

    /// The SFU's case: the server learns who knocked from the certificate, and the caller
    /// decides. The client still pins the server.
    @Test func serverWithoutAnExpectedFingerprintReportsTheClientsToTheCaller() async throws {
        let link = try DTLSTestLink(serverAcceptsAnyClient: true)
        #expect(link.server.peerFingerprint == nil)
        try await link.run()
        let client = try #require(link.clientKeys), server = try #require(link.serverKeys)
        #expect(server.peerFingerprint == link.clientCertificate.fingerprint)
        #expect(client.localSending.bytes == server.remoteSending.bytes)

        // Accepting any client does not loosen the client's check of the server.
        let impostor = try DTLSCertificate()
        let pinned = try DTLSTestLink(clientExpects: impostor.fingerprint, serverAcceptsAnyClient: true)
        try await pinned.run()
        #expect(pinned.clientKeys == nil)
        #expect(pinned.clientFailure == .fingerprintMismatch(expected: impostor.fingerprint, got: pinned.serverCertificate.fingerprint))
    }

    @Test func noSharedSRTPProfileFailsClearly() async throws {
        let link = try DTLSTestLink(clientProfiles: [.aeadAES128GCM], serverProfiles: [.aesCM128HMACSHA1_80])
        try await link.run()
        #expect(link.clientKeys == nil && link.serverKeys == nil)
        #expect(link.clientFailure == .noSRTPProfile(offered: [.aeadAES128GCM]))
        #expect(link.serverFailure == .noSRTPProfile(offered: [.aesCM128HMACSHA1_80]))
    }

    @Test func lostFirstFlightIsRetransmitted() async throws {
        let link = try DTLSTestLink()
        try await link.run { _, index, datagram in index == 0 ? [] : [datagram] }
        #expect(link.clientKeys != nil && link.serverKeys != nil)
        #expect(link.clientKeys?.keyingMaterial.bytes == link.serverKeys?.keyingMaterial.bytes)
        // The ClientHello went out twice.
        #expect(link.sent.filter { $0.from == .client && $0.datagram[0] == 22 && $0.datagram[13] == 1 }.count >= 2)
    }

    @Test func lostLastFlightIsAnsweredByTheConnectedServer() async throws {
        let link = try DTLSTestLink()
        var droppedOnce = false
        try await link.run { to, _, datagram in
            // Drop the server's first flight that reaches the client after the server connected.
            if to == .client && link.serverKeys != nil && !droppedOnce {
                droppedOnce = true
                return []
            }
            return [datagram]
        }
        #expect(droppedOnce)
        #expect(link.clientKeys?.keyingMaterial.bytes == link.serverKeys?.keyingMaterial.bytes)
        #expect(link.clientKeys != nil)
    }

    @Test func silentPeerTimesOutAfterTheRetransmissionLimit() async throws {
        let link = try DTLSTestLink(maximumRetransmissions: 2)
        try await link.run { _, _, _ in [] }
        #expect(link.clientFailure == .timedOut(retransmissions: 2))
        #expect(link.clientFailure?.description.contains("2 retransmissions") == true)
    }

    @Test func nonDTLSBytesAreDiscardedWithoutHarm() async throws {
        let link = try DTLSTestLink()
        for garbage: [UInt8] in [[], [22], Array(repeating: 0x80, count: 40), Array(repeating: 0, count: 13)] {
            let actions = link.server.receive(garbage)
            #expect(actions.count == 1)
            if case let .discarded(error)? = actions.first, case .malformedDatagram = error {
            } else {
                Issue.record("expected discarded, got \(actions)")
            }
        }
        try await link.run()
        #expect(link.clientKeys != nil && link.serverKeys != nil)
    }

    @Test func garbageAfterTheHandshakeLeavesTheAssociationUp() async throws {
        let link = try DTLSTestLink()
        try await link.run()
        #expect(link.client.state == .connected && link.server.state == .connected)
        var random = SeededRandom(seed: 99)
        let records = link.sent.map(\.datagram)
        for _ in 0..<200 {
            var datagram = records.randomElement(using: &random)!
            switch Int.random(in: 0..<3, using: &random) {
            case 0: datagram[Int.random(in: 0..<datagram.count, using: &random)] ^= 0x10
            case 1: datagram = Array(datagram.prefix(Int.random(in: 13..<datagram.count, using: &random)))
            default: datagram = [23, 0xFE, 0xFD] + (0..<60).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            for endpoint in [link.client, link.server] {
                for action in endpoint.receive(datagram) {
                    if case .connected = action { Issue.record("keys given twice") }
                }
            }
        }
        // Replays and forgeries of handshake or application records are dropped, not fatal.
        #expect(link.client.state == .connected && link.server.state == .connected)
        #expect(link.client.tick().isEmpty && link.client.timeUntilTick == nil)
    }

    /// Random garbage, truncations and bit flips at every stage: the handshake either
    /// completes with equal keys or fails with a typed error; it never traps or hangs.
    @Test(arguments: 0..<24)
    func corruptedDatagramsNeverTrap(seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        let link = try DTLSTestLink()
        try await link.run(limit: .seconds(5)) { to, _, datagram in
            var out: [[UInt8]] = []
            switch Int.random(in: 0..<6, using: &random) {
            case 0:  // random bytes that look like a DTLS record
                var junk = (0..<Int.random(in: 13...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                junk[0] = UInt8.random(in: 20...25, using: &random)
                junk[1] = 0xFE
                junk[2] = 0xFD
                out = [junk, datagram]
            case 1:  // truncated
                out = [Array(datagram.prefix(Int.random(in: 0..<datagram.count, using: &random))), datagram]
            case 2:  // one flipped bit, original lost
                var flipped = datagram
                flipped[Int.random(in: 0..<flipped.count, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                out = [flipped]
            default:
                out = [datagram]
            }
            return out
        }
        if let client = link.clientKeys, let server = link.serverKeys {
            #expect(client.keyingMaterial.bytes == server.keyingMaterial.bytes)
        }
        // A side without keys always ends with a typed error (the peer's alert, a Finished
        // that does not verify, or the retransmission limit), never in limbo. A DTLS server
        // finishes before the client checks its Finished, so a server may get keys and then
        // `.failed` from the client's alert: callers drop keys on `.failed`.
        #expect(link.clientKeys != nil || link.clientFailure != nil, "seed \(seed): client has neither keys nor an error")
        #expect(link.serverKeys != nil || link.serverFailure != nil, "seed \(seed): server has neither keys nor an error")
    }
}

@Suite("DTLS certificate, fingerprint and datagram packing")
struct DTLSCertificateTests {
    @Test func fingerprintRoundTripsThroughItsSDPForm() throws {
        let certificate = try DTLSCertificate()
        let text = certificate.fingerprint.description
        #expect(text.count == 95 && text == text.uppercased())
        #expect(DTLSFingerprint(text) == certificate.fingerprint)
        #expect(DTLSFingerprint("sha-256 " + text.lowercased()) == certificate.fingerprint)
        #expect(DTLSFingerprint(String(text.dropLast(3))) == nil)
        #expect(DTLSFingerprint(text.replacingOccurrences(of: ":", with: "")) == nil)
        #expect(DTLSFingerprint("ZZ" + text.dropFirst(2)) == nil)
    }

    @Test func certificatesAreFreshAndSelfSignedPEM() throws {
        let a = try DTLSCertificate(), b = try DTLSCertificate()
        #expect(a.fingerprint != b.fingerprint)
        #expect(a.pemCertificate.hasPrefix("-----BEGIN CERTIFICATE-----"))
    }

    @Test func packerKeepsRecordsWholeAndUnderTheMTU() {
        func record(_ length: Int, fill: UInt8) -> [UInt8] {
            [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1, UInt8(length >> 8), UInt8(length & 0xFF)] + Array(repeating: fill, count: length)
        }
        let records = [record(500, fill: 1), record(600, fill: 2), record(100, fill: 3), record(1187, fill: 4)]
        let datagrams = DTLSDatagramPacker.datagrams(from: records.flatMap { $0 }, mtu: 1200)
        #expect(datagrams == [records[0] + records[1], records[2], records[3]])
        // A truncated tail is kept as one last piece rather than lost.
        #expect(DTLSDatagramPacker.datagrams(from: record(10, fill: 9) + [22, 0xFE], mtu: 1200) == [record(10, fill: 9) + [22, 0xFE]])
        #expect(DTLSDatagramPacker.datagrams(from: [], mtu: 1200).isEmpty)
    }
}
