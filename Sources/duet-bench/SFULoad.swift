import DuetClient
import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// A group call's legs for `ForwardBench`: registered devices start and join a call with a
/// DTLS certificate each, as `GroupCallEngine` does, so the server announces their legs; each
/// leg's DTLS-SRTP handshake then runs here on a `LoopbackSocket`, pinned to the fingerprint the
/// server announced. From then on a leg is that socket and the two SRTP sessions the handshake
/// keyed: the generator sends packets protected with the leg's client-to-server key from it,
/// the receivers count what the SFU forwards to it and open a sample with the other key.
///
/// Payloads are fixed bytes shaped like an SFrame'd Opus frame (an SFrame header, then
/// ciphertext and tag): the SFU routes by SSRC and never opens SFrame, so it does the same work
/// as for real frames. The `video` kind sends video instead: each leg first claims a voice SSRC
/// with one packet, then sends a video frame a packet on the SSRC after it, 1,000 bytes of
/// SFrame'd ciphertext behind the frame marking of L1T3's layers — what the SFU reads, keeps per
/// receiver to answer NACKs, and filters by layer.
final class SFULoad: ForwardLoad {
    enum Kind {
        case voice, video

        var payloadSize: Int { self == .voice ? 100 : 1_000 }
    }

    private struct Leg {
        let socket: LoopbackSocket
        let sender: SRTPSession
        var packetizer: RTPPacketizer
        var frames: UInt64 = 0
    }

    let kind: Kind
    /// What fills a payload after its SFrame header (at most 4 bytes here): a receiver checks
    /// a forwarded payload ends with `payloadSize - 4` of these.
    static let filler: UInt8 = 0x5F

    let fanout: Int
    let receivers: ForwardReceivers
    let serverPorts: [Int]
    private var legs: [Leg]
    private let media: TransportAddress

    private init(kind: Kind, legs: [Leg], receivers: ForwardReceivers, media: TransportAddress) {
        self.kind = kind
        self.legs = legs
        self.receivers = receivers
        self.media = media
        fanout = legs.count - 1
        serverPorts = [Int(media.port)]
    }

    /// The call of `sessions`, registered as `numbers` (the first starts it, the rest join),
    /// with every leg connected.
    /// `profiles`: what the legs offer in their DTLS handshakes (GCM first, as devices do; or
    /// AES-CM alone, for the figure of legs to peers without GCM).
    static func make(
        _ sessions: [DeviceSession], numbers: [String], callID: String = "forward-sfu",
        profiles: [SRTPProfile] = [.aeadAES128GCM, .aesCM128HMACSHA1_80], kind: Kind = .voice
    ) async throws -> SFULoad {
        guard let owner = sessions.first, sessions.count > 1 else { throw CallSetupBench.BenchFailure("a group call needs two members") }
        let certificates = try sessions.map { _ in try DTLSCertificate(commonName: "duet-bench") }
        let group = try await owner.connection.createGroup(name: "Forward", members: Array(numbers.dropFirst()))
        let call = try await owner.connection.startGroupCall(group: group.id, callID: callID, dtlsFingerprint: certificates[0].fingerprint)
        for (session, certificate) in zip(sessions, certificates).dropFirst() {
            _ = try await session.connection.joinGroupCall(callID: callID, dtlsFingerprint: certificate.fingerprint)
        }
        guard let port = call.media, let fingerprint = call.mediaFingerprint,
            let media = TransportAddress(ipv4: port.host, port: UInt16(port.port))
                ?? Loopback.address(named: port.host, port: UInt16(port.port))
        else { throw CallSetupBench.BenchFailure("the server announced no media port for the group call") }
        let sockets = try sessions.map { _ in try LoopbackSocket() }
        let endpoints = try certificates.map {
            try DTLSEndpoint(
                role: .client, certificate: $0, peerFingerprint: fingerprint, profiles: profiles,
                initialRetransmissionTimeout: .milliseconds(500), maximumRetransmissions: 8)
        }
        let keys = await onThread { handshake(sockets, endpoints, media: media) }
        guard keys.allSatisfy({ $0 != nil }) else {
            throw CallSetupBench.BenchFailure("\(keys.filter { $0 == nil }.count) of \(keys.count) legs' DTLS handshakes failed")
        }
        let sessionPairs = try keys.map { try $0!.makeSessions() }
        // Voices two apart: a video SSRC is its voice's plus one.
        let voices = sockets.indices.map { 0x5EED_0000 + 2 * UInt32($0) }
        if kind == .video {
            for index in sockets.indices {
                var voice = RTPPacketizer(ssrc: voices[index])
                sockets[index].send(try sessionPairs[index].sender.protect(voice.packetize([0xF8]).serialized()), to: media)
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let ssrcs = kind == .video ? voices.map { $0 + 1 } : voices
        let legs = sockets.indices.map {
            Leg(socket: sockets[$0], sender: sessionPairs[$0].sender, packetizer: RTPPacketizer(ssrc: ssrcs[$0]))
        }
        let receiving = sessionPairs.map(\.receiver)
        let receivers = ForwardReceivers(sockets) { index, datagram in
            verify(datagram, with: receiving[index], from: Set(ssrcs).subtracting([ssrcs[index]]), size: kind.payloadSize)
        }
        return SFULoad(kind: kind, legs: legs, receivers: receivers, media: media)
    }

    /// Drives every leg's handshake at once until all connect or 15 s pass; each leg's keys, or
    /// nil where its handshake failed. Blocking: run `onThread`.
    private static func handshake(_ sockets: [LoopbackSocket], _ endpoints: [DTLSEndpoint], media: TransportAddress) -> [DTLSSRTPKeys?] {
        var keys = [DTLSSRTPKeys?](repeating: nil, count: sockets.count)
        var failed = Set<Int>()
        func perform(_ index: Int, _ actions: [DTLSAction]) {
            for action in actions {
                switch action {
                case let .send(datagram): sockets[index].send(datagram, to: media)
                case let .connected(connected): keys[index] = connected
                case .failed, .closed: failed.insert(index)
                case .discarded: break
                }
            }
        }
        for index in endpoints.indices { perform(index, endpoints[index].start()) }
        let deadline = ContinuousClock.now + .seconds(15)
        while keys.contains(where: { $0 == nil }), failed.count + keys.count(where: { $0 != nil }) < keys.count,
            ContinuousClock.now < deadline
        {
            for index in LoopbackSocket.readable(sockets, milliseconds: 20) {
                while let datagram = sockets[index].receiveWithSender() {
                    if datagram.from == media { perform(index, endpoints[index].receive(datagram.bytes)) }
                }
            }
            for index in endpoints.indices where keys[index] == nil && !failed.contains(index) { perform(index, endpoints[index].tick()) }
        }
        return keys
    }

    /// Every leg's next packets, `count` in all, protected now with its client-to-server key;
    /// each leg's sequence numbers go on from the last call.
    func flows(packets count: Int) throws -> [ForwardGenerator.Flow] {
        let perLeg = count / legs.count + 1
        return try legs.indices.map { index in
            var packets: [[UInt8]] = []
            packets.reserveCapacity(perLeg)
            for _ in 0..<perLeg {
                legs[index].frames += 1
                let header = SFrameHeader(keyID: UInt64(index), counter: legs[index].frames).encoded()
                let payload = header + [UInt8](repeating: Self.filler, count: kind.payloadSize - header.count)
                let packet = try legs[index].packetizer.packetize(payload, headerExtension: try marking(frame: legs[index].frames))
                packets.append(try legs[index].sender.protect(packet.serialized()))
            }
            return ForwardGenerator.Flow(socket: legs[index].socket, destination: media, packets: packets, repeats: false)
        }
    }

    /// Video: frame `frame`'s marking, one packet a frame, layers 0 2 1 2 as L1T3 sends them.
    private func marking(frame: UInt64) throws -> RTPHeaderExtension? {
        guard kind == .video else { return nil }
        let layer: UInt8 = [0, 2, 1, 2][Int(frame % 4)]
        let marking = RTPFrameMarking(
            startOfFrame: true, endOfFrame: true, independent: frame == 1, discardable: layer == 2, baseLayerSync: layer == 1,
            temporalLayer: layer)
        return try RTPHeaderExtension(oneByteElements: [marking.element()])
    }

    /// A forwarded packet opens with the leg's server-to-client key, comes from another leg's
    /// SSRC and carries the payload that leg sent.
    private static func verify(_ datagram: UnsafeRawBufferPointer, with session: SRTPSession, from ssrcs: Set<UInt32>, size: Int) -> Bool {
        var bytes = Array(datagram)
        do { try session.unprotect(inPlace: &bytes) } catch {
            if ForwardMeasure.verbose, let header = try? RTPPacket(parsing: bytes) {
                print("# SFU sample refused: \(error), ssrc \(header.ssrc) seq \(header.sequenceNumber), \(datagram.count) bytes")
            }
            return false
        }
        guard let packet = try? RTPPacket(parsing: bytes) else { return false }
        return ssrcs.contains(packet.ssrc) && packet.payload.count == size && packet.payload.suffix(size - 4).allSatisfy { $0 == filler }
    }
}
