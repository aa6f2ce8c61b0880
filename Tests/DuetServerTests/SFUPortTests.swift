import DuetClient
import DuetCrypto
import DuetMedia
import DuetWire
import Foundation
import Testing
@testable import DuetServer

/// The SFU on the real media port (issue [6/9]): devices announce their DTLS fingerprints
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
        static func connect(certificate: DTLSCertificate, to media: TransportAddress, serverFingerprint: DTLSFingerprint,
                            profiles: [SRTPProfile] = [.aesCM128HMACSHA1_80], ssrc: UInt32) async throws -> LegClient {
            let socket = try await UDPTestSocket.bind()
            let endpoint = try DTLSEndpoint(role: .client, certificate: certificate, peerFingerprint: serverFingerprint,
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
                if let (_, bytes) = await socket.receive(timeout: .milliseconds(50), matching: { from, bytes in
                    from == media && (20...63).contains(bytes.first ?? 0)
                }) {
                    actions = endpoint.receive(bytes)
                } else {
                    actions = endpoint.tick()
                }
            }
            throw DTLSError.timedOut(retransmissions: -1)
        }

        /// Sends `payload` (standing for SFrame ciphertext) as one SRTP packet.
        mutating func send(_ payload: [UInt8]) async throws {
            let packet = RTPPacket(payloadType: 111, sequenceNumber: sequence, timestamp: UInt32(sequence) * 960, ssrc: ssrc, payload: payload)
            sequence &+= 1
            try await socket.send(sender.protect(packet.serialized()), to: media)
        }

        /// The next SRTP packet from the SFU, decrypted with this leg's receiving session.
        func receive(timeout: Duration = .seconds(5)) async throws -> RTPPacket? {
            guard let (_, bytes) = await socket.receive(timeout: timeout, matching: { from, bytes in
                from == media && (128...191).contains(bytes.first ?? 0)
            }) else { return nil }
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
        var annLeg = try await LegClient.connect(certificate: annCertificate, to: media, serverFingerprint: serverFingerprint,
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
}
