import DuetCrypto
import DuetFuzzing
import DuetMedia
import DuetWire
import Testing

@testable import DuetServer

/// The media port's logic without sockets, fast enough for many iterations: every datagram a
/// stranger can send (STUN Binding, TURN requests with valid credentials, ChannelData, DTLS
/// ClientHellos, SRTP, junk), mutated, through the demultiplexer to STUN, the relay and the SFU;
/// and an allocated relay fed mutated authenticated requests and peer datagrams. The server
/// answers only the sender, only with STUN it can parse or DTLS, and relays only to peers the
/// client permitted.
@Suite("Media port fuzz (no sockets)")
struct MediaRouterFuzzTests {
    static let client = TransportAddress(ipv4: "10.0.0.2", port: 50000)!
    static let peer = TransportAddress(ipv4: "198.51.100.9", port: 6000)!  // public: the default policy refuses private peers
    static let relayed = TransportAddress(ipv4: "127.0.0.1", port: 49152)!
    static let credentials = RelayCore.Credentials(
        realm: "duet", password: { user, now in user == "call-1" && now < 1000 ? "pw" : nil },
        integrity: RelayCoreTests.integrity)

    /// The test credentials' HMAC for either integrity attribute (the core checks SHA-256 here).
    static func integrity(_ kind: STUNIntegrity.Kind) -> STUNIntegrity {
        let sha256 = RelayCoreTests.integrity("call-1", "duet", "pw")
        return kind == .sha256 ? sha256 : STUNIntegrity(kind: .sha1) { Array(sha256.hmac($0).prefix(20)) }
    }

    /// Requests with fixed transaction ids (the same samples every run), signed with the test credentials.
    static func request(
        _ method: STUNMessage.Method, _ attributes: [STUNAttribute] = [], class cls: STUNMessage.Class = .request,
        peer: TransportAddress? = nil, signed: Bool = true, tag: UInt8
    ) -> [UInt8] {
        var m = STUNMessage(
            method: method, messageClass: cls, transactionID: (0..<12).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ Int(tag)) })
        if let peer { m.attributes.append(m.xorAddress(.xorPeerAddress, peer)) }
        m.attributes += attributes
        guard signed else { return m.encoded(fingerprint: true) }
        m.attributes += [.text(.username, "call-1"), .text(.realm, "duet"), .text(.nonce, "n1")]
        return m.encoded(integrity: integrity(.sha256), fingerprint: true)
    }

    static let turnSamples: [[UInt8]] = [
        request(.binding, signed: false, tag: 1),
        request(.binding, class: .success, signed: false, tag: 2),
        request(.allocate, [.requestedTransportUDP], signed: false, tag: 3),
        request(.allocate, [.requestedTransportUDP, .uint32(.lifetime, 3600)], tag: 4),
        request(.refresh, [.uint32(.lifetime, 600)], tag: 5),
        request(.refresh, [.uint32(.lifetime, 0)], tag: 6),
        request(.createPermission, peer: peer, tag: 7),
        request(.channelBind, [.channelNumber(0x4001)], peer: peer, tag: 8),
        request(.send, [STUNAttribute(.data, [1, 2, 3])], class: .indication, peer: peer, signed: false, tag: 9),
        ChannelData(channel: 0x4001, payload: Array(0..<40)).encoded
    ]

    static func helloAndMedia() throws -> [[UInt8]] {
        let hello = try DTLSEndpoint(role: .client, certificate: DTLSCertificate(), peerFingerprint: DTLSCertificate().fingerprint)
            .start().compactMap { if case let .send(bytes) = $0 { bytes } else { nil } }
        var packetizer = RTPPacketizer(ssrc: 0xC0FF_EE00, initialSequenceNumber: 1, initialTimestamp: 0)
        return hello + [
            try packetizer.packetize(Array(repeating: 0x5A, count: 60)).serialized(), [23, 0xFE, 0xFD] + Array(repeating: 0, count: 30)
        ]
    }

    @Test func mutatedDatagramsThroughTheDemultiplexer() throws {
        var router = MediaRouter(
            credentials: Self.credentials, nonce: "n1", sfu: SFUPort(certificate: try DTLSCertificate(), announced: AnnouncedLegs()))
        let senders = (1...16).map { TransportAddress(ipv4: "10.1.0.\($0)", port: UInt16(40000 + $0))! }
        var now = 1.0
        let report = FuzzTarget("media router", defaultIterations: 4000, cost: 2)
            .run(samples: Self.turnSamples + (try Self.helloAndMedia()), fixup: { STUNRepair.reseal($0, integrity: Self.integrity) }) {
                input, random in
                now += 0.01
                if SFUPort.isClientHello(input) {
                    try ensure(MediaPacketKind(datagram: input) == .dtls, "a ClientHello the demultiplexer does not route to DTLS")
                }
                let from = senders.randomElement(using: &random)!
                var outputs = router.handle(.fromClient(input, from), now: now)
                if Int.random(in: 0..<200, using: &random) == 0 { outputs += router.handle(.tick, now: now) }
                var answered = false
                while !outputs.isEmpty {
                    switch outputs.removeFirst() {
                    case let .sendToClient(to, bytes):
                        try ensure(senders.contains(to), "sent to \(to), who sent nothing")
                        try Self.checkAnswer(bytes)
                        answered = true
                    case let .bindRelaySocket(request):
                        try ensure(request.client == from, "an allocation for \(request.client) on \(from)'s request")
                        outputs += router.handle(.relayBindFailed(request, reason: "fuzz"), now: now)
                    case .sendToPeer, .close:
                        throw FuzzViolation("relayed or closed a socket with no relayed socket bound")
                    case .sendToStream:
                        throw FuzzViolation("wrote to a TURN stream though none was opened")
                    }
                }
                return answered ? .accepted : .rejected
            }
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    @Test func mutatedRequestsToAnAllocatedRelay() {
        var core = RelayCore(credentials: Self.credentials, nonce: "n1")
        var now = 1.0
        let report = FuzzTarget("relay core", defaultIterations: 4000)
            .run(samples: Self.turnSamples, fixup: { STUNRepair.reseal($0, integrity: Self.integrity) }) { input, random in
                now += 0.05
                if now > 900 { now = 1 }
                if core.allocationCount == 0 {
                    for action in core.handleClientDatagram(Self.turnSamples[3], from: Self.client, now: now) {
                        if case let .bindRelaySocket(request) = action {
                            _ = core.allocationBound(request, relayedAddress: Self.relayed, now: now)
                        }
                    }
                }
                let fromPeer = Int.random(in: 0..<4, using: &random) == 0
                let actions =
                    fromPeer
                    ? core.handlePeerDatagram(input, from: Self.peer, to: Self.relayed, now: now)
                    : core.handleClientDatagram(input, from: Self.client, now: now)
                for action in actions {
                    switch action {
                    case let .sendToClient(to, bytes):
                        try ensure(to == Self.client, "answered \(to)")
                        if fromPeer {
                            let delivered = (try? ChannelData(parsing: bytes))?.payload ?? (try? STUNMessage(parsing: bytes))?.first(.data)
                            try ensure(delivered == input, "a peer's datagram reached the client altered")
                        } else {
                            try Self.checkAnswer(bytes)
                        }
                    case let .sendToPeer(relayedAddress, to, _):
                        try ensure(
                            relayedAddress == Self.relayed && core.allocations[Self.client]?.permits(to, now: now) == true,
                            "relayed to \(to) without a permission")
                    case let .bindRelaySocket(request):
                        _ = core.allocationBound(request, relayedAddress: Self.relayed, now: now)
                    case .closeRelaySocket:
                        break
                    }
                }
                return actions.isEmpty ? .rejected : .accepted
            }
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    /// What the media port sends a client: STUN it can parse, or DTLS from the SFU.
    static func checkAnswer(_ bytes: [UInt8]) throws {
        switch MediaPacketKind(datagram: bytes) {
        case .stun:
            do { _ = try STUNMessage(parsing: bytes) } catch {
                throw FuzzViolation("answered with STUN it cannot parse (\(error)): \(bytes.hex)")
            }
        case .dtls:
            break
        default:
            throw FuzzViolation("answered with a \(MediaPacketKind(datagram: bytes)) datagram: \(bytes.hex)")
        }
    }
}
