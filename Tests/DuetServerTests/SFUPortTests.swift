import DuetClient
import DuetCrypto
import DuetMedia
import DuetWire
import Foundation
import Testing

@testable import DuetServer

/// The SFU on the real media port (docs/group-calls.md): devices announce their DTLS fingerprints
/// over signaling, run DTLS-SRTP to the port over real UDP, and the port routes their SRTP
/// through the call's room without touching the (SFrame) payload.
@Suite("SFU on the media port")
struct SFUPortTests {
    /// A device's media leg as a client sees it: a UDP socket, its certificate, and — once
    /// the handshake is done — its SRTP sessions with the SFU.
    struct LegClient {
        let socket: UDPTestSocket
        let media: TransportAddress
        let sender: SRTPSession
        let receiver: SRTPSession
        let ssrc: UInt32
        private(set) var sequence: UInt16 = 1

        /// Runs the client side of DTLS-SRTP against the media port, pinning `serverFingerprint`.
        static func connect(
            certificate: DTLSCertificate, to media: TransportAddress, serverFingerprint: DTLSFingerprint,
            profiles: [SRTPProfile] = [.aesCM128HMACSHA1_80], ssrc: UInt32
        ) async throws -> LegClient {
            let socket = try await UDPTestSocket.bind()
            let endpoint = try DTLSEndpoint(
                role: .client, certificate: certificate, peerFingerprint: serverFingerprint,
                profiles: profiles, initialRetransmissionTimeout: .milliseconds(200))
            var actions = endpoint.start()
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline {
                var keys: DTLSSRTPKeys?
                for action in actions {
                    switch action {
                    case let .send(datagram): try await socket.send(datagram, to: media)
                    case let .connected(exported): keys = exported
                    case let .failed(error): throw error
                    case .closed: throw DTLSError.handshakeFailed("the media port closed the association")
                    case .discarded: break
                    }
                }
                if let keys {
                    let (sender, receiver) = try keys.makeSessions()
                    return LegClient(socket: socket, media: media, sender: sender, receiver: receiver, ssrc: ssrc)
                }
                if let (_, bytes) = await socket.receive(
                    timeout: .milliseconds(50),
                    matching: { from, bytes in
                        from == media && (20...63).contains(bytes.first ?? 0)
                    })
                {
                    actions = endpoint.receive(bytes)
                } else {
                    actions = endpoint.tick()
                }
            }
            throw DTLSError.timedOut(retransmissions: -1)
        }

        /// Sends `payload` (standing for SFrame ciphertext) as one SRTP packet.
        mutating func send(_ payload: [UInt8]) async throws {
            let packet = RTPPacket(
                payloadType: 111, sequenceNumber: sequence, timestamp: UInt32(sequence) * 960, ssrc: ssrc, payload: payload)
            sequence &+= 1
            try await socket.send(sender.protect(packet.serialized()), to: media)
        }

        /// The next SRTP packet from the SFU, decrypted with this leg's receiving session.
        func receive(timeout: Duration = .seconds(5)) async throws -> RTPPacket? {
            guard
                let (_, bytes) = await socket.receive(
                    timeout: timeout,
                    matching: { from, bytes in
                        from == media && (128...191).contains(bytes.first ?? 0)
                    })
            else { return nil }
            return try RTPPacket(parsing: receiver.unprotect(bytes))
        }
    }

    static func mediaAddress(_ server: TestServer) -> TransportAddress {
        TransportAddress(ipv4: server.app.mediaAddress.host, port: UInt16(server.app.mediaAddress.port))!
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    @Test func announcedLegsExchangeSFramePayloadsUntouchedAndOthersGetNothing() async throws {
        let server = try await TestServer.start()
        let people = try await GroupCallRoomTests().members(3, on: server, base: 3100)
        let (ann, ben, cat) = (people[0], people[1], people[2])
        let team = try await ann.connection.createGroup(name: "Choir", members: [ben.number, cat.number])
        let annCertificate = try DTLSCertificate(), benCertificate = try DTLSCertificate(), catCertificate = try DTLSCertificate()

        let started = try await ann.connection.startGroupCall(group: team.id, callID: "sfu-1", dtlsFingerprint: annCertificate.fingerprint)
        let joined = try await ben.connection.joinGroupCall(callID: "sfu-1", dtlsFingerprint: benCertificate.fingerprint)
        #expect(started.media?.description == server.app.mediaAddress.description)
        let serverFingerprint = try #require(started.mediaFingerprint)
        #expect(joined.mediaFingerprint == serverFingerprint)
        let media = Self.mediaAddress(server)

        // Ann prefers GCM, Ben speaks only AES-CM: each leg has its own profile.
        var annLeg = try await LegClient.connect(
            certificate: annCertificate, to: media, serverFingerprint: serverFingerprint,
            profiles: [.aeadAES128GCM, .aesCM128HMACSHA1_80], ssrc: 0xA11)
        var benLeg = try await LegClient.connect(certificate: benCertificate, to: media, serverFingerprint: serverFingerprint, ssrc: 0xBE7)
        // Cat is a member but announced nothing: her handshake completes (the port cannot
        // know in advance) but gets no leg.
        var catLeg = try await LegClient.connect(certificate: catCertificate, to: media, serverFingerprint: serverFingerprint, ssrc: 0xCA7)

        let frame = Self.randomBytes(160)
        try await annLeg.send(frame)
        let atBen = try #require(try await benLeg.receive())
        #expect(atBen.payload == frame)
        #expect(atBen.ssrc == 0xA11)
        let reply = Self.randomBytes(90)
        try await benLeg.send(reply)
        #expect(try await annLeg.receive()?.payload == reply)

        // Cat hears nothing and is not heard.
        #expect(try await catLeg.receive(timeout: .milliseconds(300)) == nil)
        try await catLeg.send(Self.randomBytes(50))
        #expect(try await annLeg.receive(timeout: .milliseconds(300)) == nil)
        #expect(try await benLeg.receive(timeout: .milliseconds(300)) == nil)

        // Ben leaves the call: he stops receiving, and what he still sends goes nowhere.
        _ = try await ben.connection.leaveGroupCall(callID: "sfu-1")
        try await annLeg.send(Self.randomBytes(100))
        #expect(try await benLeg.receive(timeout: .milliseconds(500)) == nil)
        try await benLeg.send(Self.randomBytes(100))
        #expect(try await annLeg.receive(timeout: .milliseconds(500)) == nil)

        for leg in [annLeg, benLeg, catLeg] { await leg.socket.close() }
        for member in people { await member.connection.close() }
        try await server.stop()
    }

    /// Starts a call "Choir" with the first member and lets the rest join, each with a fresh
    /// certificate, and connects every media leg.
    func call(_ callID: String, members: [GroupCallRoomTests.Member], server: TestServer) async throws -> [LegClient] {
        let group = try await members[0].connection.createGroup(name: "Choir", members: members.dropFirst().map(\.number))
        var legs: [LegClient] = []
        for (index, member) in members.enumerated() {
            let certificate = try DTLSCertificate()
            let info =
                index == 0
                ? try await member.connection.startGroupCall(group: group.id, callID: callID, dtlsFingerprint: certificate.fingerprint)
                : try await member.connection.joinGroupCall(callID: callID, dtlsFingerprint: certificate.fingerprint)
            legs.append(
                try await LegClient.connect(
                    certificate: certificate, to: Self.mediaAddress(server),
                    serverFingerprint: #require(info.mediaFingerprint), ssrc: UInt32(0x100 + index)))
        }
        return legs
    }

    @Test func aVanishedOrRemovedMembersLegIsDropped() async throws {
        let server = try await TestServer.start()
        let people = try await GroupCallRoomTests().members(3, on: server, base: 3200)
        var legs = try await call("sfu-2", members: people, server: server)
        try await legs[0].send([1, 2, 3])
        #expect(try await legs[1].receive()?.payload == [1, 2, 3])
        #expect(try await legs[2].receive()?.payload == [1, 2, 3])

        // Ben's device vanishes; once the server has noticed, he gets nothing more.
        await people[1].connection.close()
        #expect(await GroupCallRoomTests().changed(people[0]) { _, _, left in left == [people[1].number] })
        // Cat is removed from the group by its owner mid-call.
        let group = try #require(try await people[0].connection.groups().first)
        _ = try await people[0].connection.removeGroupMember(group: group.id, number: people[2].number)
        try await legs[0].send([4, 5, 6])
        #expect(try await legs[1].receive(timeout: .milliseconds(500)) == nil)
        #expect(try await legs[2].receive(timeout: .milliseconds(500)) == nil)
        for leg in legs { await leg.socket.close() }
        for member in people { await member.connection.close() }
        try await server.stop()
    }

    @Test func nobodyMayAnnounceAnotherDevicesFingerprint() async throws {
        let server = try await TestServer.start()
        let people = try await GroupCallRoomTests().members(2, on: server, base: 3300)
        let group = try await people[0].connection.createGroup(name: "Pair", members: [people[1].number])
        let certificate = try DTLSCertificate()
        _ = try await people[0].connection.startGroupCall(group: group.id, callID: "sfu-3", dtlsFingerprint: certificate.fingerprint)
        // Ben cannot claim Ann's (public) fingerprint and so pull her handshake into his leg.
        await expectServerError(.notPermitted) {
            _ = try await people[1].connection.joinGroupCall(callID: "sfu-3", dtlsFingerprint: certificate.fingerprint)
        }
        // The refusal left the room as it was; joining without media still works.
        let room = try await people[1].connection.joinGroupCall(callID: "sfu-3")
        #expect(room.participants == [people[0].number, people[1].number].sorted())
        for member in people { await member.connection.close() }
        try await server.stop()
    }

    @Test func garbageOfEveryClassLeavesLegsAndSTUNWorking() async throws {
        let server = try await TestServer.start()
        let people = try await GroupCallRoomTests().members(2, on: server, base: 3400)
        var legs = try await call("sfu-4", members: people, server: server)
        let media = Self.mediaAddress(server)
        let noise = try await UDPTestSocket.bind()
        var rng = SystemRandomNumberGenerator()
        // A real ClientHello's header, for garbage that passes the first checks.
        let hello = try DTLSEndpoint(role: .client, certificate: DTLSCertificate(), peerFingerprint: DTLSCertificate().fingerprint)
            .start().compactMap { if case let .send(bytes) = $0 { bytes } else { nil } }.first!
        for i in 0..<1500 {
            var bytes = Self.randomBytes(Int.random(in: 0...400, using: &rng))
            switch i % 5 {
            case 0 where !bytes.isEmpty: bytes[0] = UInt8.random(in: 20...63, using: &rng)
            case 1 where !bytes.isEmpty: bytes[0] = UInt8.random(in: 128...191, using: &rng)
            case 2: bytes = Array(hello.prefix(Int.random(in: 0...hello.count, using: &rng))) + bytes.prefix(20)
            case 3 where bytes.count > 13: bytes.replaceSubrange(0..<13, with: hello.prefix(13))  // a handshake header, junk body
            default: break
            }
            // From a stranger, and from a leg's own address (junk must not end the leg).
            try await noise.send(bytes, to: media)
            if i % 3 == 0 { try await legs[1].socket.send(bytes, to: media) }
            if i % 100 == 0 { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(try await MediaPortTests.reflexiveAddress(of: noise, media: media) == noise.address)
        let fresh = try await UDPTestSocket.bind()
        #expect(try await MediaPortTests.reflexiveAddress(of: fresh, media: media) == fresh.address)
        _ = legs[0].socket.drain()
        try await legs[1].send([7, 7, 7])
        #expect(try await legs[0].receive()?.payload == [7, 7, 7])
        await noise.close()
        await fresh.close()
        for leg in legs { await leg.socket.close() }
        for member in people { await member.connection.close() }
        try await server.stop()
    }
}

/// The half-open limits without sockets: a stranger's ClientHello gets a stateless
/// HelloVerifyRequest, so spoofed addresses hold nothing; addresses that answer the cookie hold
/// at most `maximumHandshakes` associations, and those expire.
@Suite("SFU port limits")
struct SFUPortLimitTests {
    @Test func handshakesFromAddressesThatAnsweredTheCookieAreCappedAndExpire() throws {
        let server = try DTLSCertificate(), device = try DTLSCertificate()
        var port = SFUPort(certificate: server, announced: AnnouncedLegs())
        for index in 0..<(SFUPort.maximumHandshakes + 44) {
            let address = TransportAddress(ipv4: "198.51.100.\(index % 250 + 1)", port: UInt16(40000 + index))!
            let client = try DTLSEndpoint(role: .client, certificate: device, peerFingerprint: server.fingerprint)
            let hello = try #require(Self.datagrams(client.start()).first)
            #expect(SFUPort.isClientHello(hello))
            // The HelloVerifyRequest, answered with the cookie (the second ClientHello).
            for answer in Self.toClient(port.receiveDTLS(hello, from: address, now: 1000), at: address) {
                for again in Self.datagrams(client.receive(answer)) { _ = port.receiveDTLS(again, from: address, now: 1000) }
            }
        }
        #expect(port.handshakeCount == SFUPort.maximumHandshakes)
        #expect(port.counts["DTLS handshakes refused at capacity"] == 44)
        // Not-a-ClientHello from a stranger starts nothing.
        #expect(
            port.receiveDTLS(
                [23, 254, 253] + Array(repeating: 0, count: 30), from: TransportAddress(ipv4: "198.51.100.99", port: 1)!, now: 1000
            ).isEmpty)
        _ = port.tick(now: 1000 + SFUPort.handshakeLifetime / 2)
        #expect(port.handshakeCount == SFUPort.maximumHandshakes)
        _ = port.tick(now: 1000 + SFUPort.handshakeLifetime + 1)
        #expect(port.handshakeCount == 0 && port.legCount == 0)
        #expect(port.counts["DTLS handshakes expired"] == SFUPort.maximumHandshakes)
    }

    @Test func aCookieMadeForOneAddressOpensNoHandshakeFromAnother() throws {
        let server = try DTLSCertificate()
        var port = SFUPort(certificate: server, announced: AnnouncedLegs())
        let client = try DTLSEndpoint(role: .client, certificate: DTLSCertificate(), peerFingerprint: server.fingerprint)
        let victim = TransportAddress(ipv4: "203.0.113.7", port: 4000)!, other = TransportAddress(ipv4: "203.0.113.8", port: 4000)!
        let hello = try #require(Self.datagrams(client.start()).first)
        let challenge = try #require(Self.toClient(port.receiveDTLS(hello, from: victim, now: 1000), at: victim).first)
        let withCookie = try #require(Self.datagrams(client.receive(challenge)).first)
        _ = port.receiveDTLS(withCookie, from: other, now: 1000)
        #expect(port.handshakeCount == 0)
        _ = port.receiveDTLS(withCookie, from: victim, now: 1000)
        #expect(port.handshakeCount == 1)
    }

    static func toClient(_ outputs: [MediaOutput], at address: TransportAddress) -> [[UInt8]] {
        outputs.compactMap { if case let .sendToClient(to, bytes) = $0, to == address { bytes } else { nil } }
    }

    @Test func spoofedClientHellosFromManyAddressesDoNotLockOutAGenuineLeg() throws {
        let announced = AnnouncedLegs()
        let server = try DTLSCertificate()
        var port = SFUPort(certificate: server, announced: announced)
        let spoofer = try DTLSEndpoint(role: .client, certificate: DTLSCertificate(), peerFingerprint: server.fingerprint)
        let hello = try #require(Self.datagrams(spoofer.start()).first)
        for index in 0..<(SFUPort.maximumHandshakes + 44) {
            let spoofed = TransportAddress(ipv4: "198.51.100.\(index % 250 + 1)", port: UInt16(40000 + index))!
            for output in port.receiveDTLS(hello, from: spoofed, now: 1000) {
                guard case let .sendToClient(_, answer) = output else { continue }
                // No amplification: what a spoofed address gets is no bigger than what was sent.
                #expect(answer.count <= hello.count)
            }
        }
        #expect(port.handshakeCount == 0)

        let device = try DTLSCertificate()
        try announced.announce(device.fingerprint, for: .init(room: .groupCall("flood"), number: "+15550100"))
        let client = try DTLSEndpoint(role: .client, certificate: device, peerFingerprint: server.fingerprint, profiles: SFUPort.profiles)
        let address = TransportAddress(ipv4: "203.0.113.9", port: 5000)!
        var toServer = Self.datagrams(client.start())
        var connected = false
        for _ in 0..<10 where !connected {
            let toDevice = toServer.flatMap { port.receiveDTLS($0, from: address, now: 1001) }.compactMap { output -> [UInt8]? in
                if case let .sendToClient(to, bytes) = output, to == address { bytes } else { nil }
            }
            let actions = toDevice.flatMap { client.receive($0) }
            connected = actions.contains { if case .connected = $0 { true } else { false } }
            toServer = Self.datagrams(actions)
        }
        #expect(connected)
        #expect(port.legCount == 1)
    }

    static func datagrams(_ actions: [DTLSAction]) -> [[UInt8]] {
        actions.compactMap { if case let .send(bytes) = $0 { bytes } else { nil } }
    }
}
