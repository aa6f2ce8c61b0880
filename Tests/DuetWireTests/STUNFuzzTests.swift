import DuetFuzzing
import DuetWire
import Testing

/// STUN and TURN arrive from anyone on the media port (and from peers in connectivity checks),
/// so their parsers meet hostile bytes first. Mutations of messages the real encoder makes —
/// every TURN method Duet speaks, IPv4 and IPv6 addresses, integrity and FINGERPRINT, and
/// the RFC 5769 vectors — and of ChannelData must parse or fail with `STUNError`, never trap;
/// a parsed message's accessors stay within its bytes and it re-encodes to the same length.
@Suite("STUN and TURN fuzz")
struct STUNFuzzTests {
    /// A stand-in HMAC (DuetWire brings no crypto; the parser only needs its length right).
    static func integrity(_ kind: STUNIntegrity.Kind) -> STUNIntegrity {
        STUNIntegrity(kind: kind) { bytes in
            let seed = bytes.reduce(0xCBF2_9CE4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
            return (0..<(kind == .sha1 ? 20 : 32)).map { UInt8(truncatingIfNeeded: seed >> (8 * UInt64($0 % 8)) &+ UInt64($0)) }
        }
    }

    static let peer4 = TransportAddress(ipv4: "192.0.2.9", port: 6000)!
    static let peer6 = TransportAddress(ip: [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1], port: 40000)

    /// Every STUN sample: the encoder's and RFC 5769's (which pads with spaces, not zeros).
    static let messages = encoded + [STUNMessageTests.sampleRequest, STUNMessageTests.sampleResponse]

    /// One message of each kind Duet sends or answers, as the encoder writes it.
    static let encoded: [[UInt8]] = {
        var made = 0
        func message(_ method: STUNMessage.Method, _ cls: STUNMessage.Class, _ build: (inout STUNMessage) -> Void) -> STUNMessage {
            made += 1  // fixed transaction IDs: the same samples every run
            var m = STUNMessage(
                method: method, messageClass: cls, transactionID: (0..<12).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ made) })
            build(&m)
            return m
        }
        let credentials: [STUNAttribute] = [.text(.username, "1700000600:c-1:+15550001"), .text(.realm, "duet"), .text(.nonce, "bm9uY2U=")]
        return [
            message(.binding, .request) { _ in }.encoded(fingerprint: true),
            message(.binding, .success) { $0.attributes = [$0.xorAddress(.xorMappedAddress, peer4)] }.encoded(fingerprint: true),
            message(.binding, .success) { $0.attributes = [$0.xorAddress(.xorMappedAddress, peer6), .text(.software, "Duet")] }.encoded(),
            message(.binding, .request) {
                $0.attributes = [
                    .text(.username, "abcd:efgh"), .uint32(.priority, 0x6E00_01FF), STUNAttribute(.useCandidate, []),
                    STUNAttribute(.iceControlling, Array(0..<8))
                ]
            }.encoded(integrity: integrity(.sha256), fingerprint: true),
            message(.allocate, .request) { $0.attributes = [.requestedTransportUDP] }.encoded(),
            message(.allocate, .request) { $0.attributes = [.requestedTransportUDP, .uint32(.lifetime, 600)] + credentials }
                .encoded(integrity: integrity(.sha1), fingerprint: true),
            message(.allocate, .error) { $0.attributes = [.errorCode(401, reason: "Unauthorized")] + credentials.dropFirst() }.encoded(
                fingerprint: true),
            message(.allocate, .success) {
                $0.attributes = [$0.xorAddress(.xorRelayedAddress, peer4), .uint32(.lifetime, 600), $0.xorAddress(.xorMappedAddress, peer6)]
            }.encoded(integrity: integrity(.sha1), fingerprint: true),
            message(.refresh, .request) { $0.attributes = [.uint32(.lifetime, 0)] + credentials }.encoded(
                integrity: integrity(.sha1), fingerprint: true),
            message(.createPermission, .request) {
                $0.attributes = [$0.xorAddress(.xorPeerAddress, peer4), $0.xorAddress(.xorPeerAddress, peer6)] + credentials
            }.encoded(integrity: integrity(.sha1), fingerprint: true),
            message(.channelBind, .request) {
                $0.attributes = [.channelNumber(0x4001), $0.xorAddress(.xorPeerAddress, peer4)] + credentials
            }.encoded(integrity: integrity(.sha1), fingerprint: true),
            message(.send, .indication) { $0.attributes = [$0.xorAddress(.xorPeerAddress, peer4), STUNAttribute(.data, Array(0..<37))] }
                .encoded(),
            message(.data, .indication) { $0.attributes = [$0.xorAddress(.xorPeerAddress, peer6), STUNAttribute(.data, [9])] }
                .encoded(fingerprint: true),
            message(.channelBind, .error) {
                $0.attributes = [.errorCode(420, reason: "Unknown Attribute"), .unknownAttributes([0x0031, 0x7FFF])]
            }.encoded(integrity: integrity(.sha1), fingerprint: true)
        ]
    }()

    static let channelData: [[UInt8]] = [
        ChannelData(channel: 0x4000, payload: []).encoded,
        ChannelData(channel: 0x4001, payload: [1, 2, 3]).encoded + [0],
        ChannelData(channel: 0x4FFF, payload: Array(0..<100)).encoded
    ]

    @Test func validSamplesRoundTrip() throws {
        for bytes in Self.encoded { #expect(try STUNMessage(parsing: bytes).encoded() == bytes) }
        for bytes in Self.channelData {
            let data = try ChannelData(parsing: bytes)
            #expect(data.encoded == Array(bytes.prefix(4 + data.payload.count)))
        }
    }

    /// Found by fuzzing: the parser took any first byte below 64, so these (routed to DTLS and
    /// dropped as unknown by the media port) also read as STUN. It now takes 0...3, as RFC 7983.
    @Test func firstBytesOutsideSTUNsRangeAreRefused() {
        for hex in [
            "3f0100202112a44203203d5a7794b1ceeb082542000100140002bd520113a9fa03203d5a7794b1ceeb0825438022000444756574",
            "100300082112a44205223f5c7996b3d0ed0a27440019000411000000"
        ] {
            #expect(throws: STUNError.notSTUN) { try STUNMessage(parsing: [UInt8](hex: hex)) }
            #expect(MediaPacketKind(datagram: [UInt8](hex: hex)) != .stun)
        }
    }

    @Test func mutatedMessagesParseOrFailTyped() {
        let report = FuzzTarget("STUN/TURN messages", defaultIterations: 4000)
            .run(samples: Self.messages + Self.channelData, fixup: { STUNRepair.reseal($0, integrity: Self.integrity) }) { input, _ in
                let stun = try Self.checkSTUN(input), channel = try Self.checkChannelData(input)
                return stun || channel ? .accepted : .rejected
            }
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    /// A parsed message: every accessor answers from its own bytes, integrity checks fail or
    /// pass with a typed error, and the message re-encodes to as many bytes (padding is
    /// written as zeros, so only a FINGERPRINT over non-zero padding may then disagree).
    static func checkSTUN(_ bytes: [UInt8]) throws -> Bool {
        let message: STUNMessage
        do { message = try STUNMessage(parsing: bytes) } catch { return false }
        try ensure(MediaPacketKind(datagram: bytes) == .stun, "parsed as STUN but demultiplexed as \(MediaPacketKind(datagram: bytes))")
        for kind in [STUNAttribute.Kind.username, .realm, .nonce, .software] { _ = message.text(kind) }
        _ = (message.uint32(.lifetime), message.uint32(.priority), message.errorCode, message.channelNumber)
        for kind in [STUNAttribute.Kind.xorMappedAddress, .xorPeerAddress, .xorRelayedAddress, .mappedAddress] {
            if let address = try? message.address(kind) {
                try ensure([4, 16].contains(address.ip.count), "address of \(address.ip.count) bytes")
            }
            _ = message.addresses(kind)
        }
        for kind in [STUNIntegrity.Kind.sha1, .sha256] { _ = try? STUNMessage.verifyIntegrity(of: bytes, integrity(kind)) }
        let encoded = message.encoded()
        // What followed a MESSAGE-INTEGRITY is dropped by the parser (RFC 8489 §14.5): shorter then.
        let integrity = message.first(.messageIntegrity) != nil || message.first(.messageIntegritySHA256) != nil
        try ensure(
            integrity ? encoded.count <= bytes.count : encoded.count == bytes.count,
            "re-encoded to \(encoded.count) bytes, not \(bytes.count)")
        do {
            try ensure(try STUNMessage(parsing: encoded) == message, "re-encoding parses to a different message")
        } catch let error as STUNError {
            try ensure(error == .fingerprintMismatch && message.first(.fingerprint) != nil, "re-encoding does not parse: \(error)")
        }
        return true
    }

    static func checkChannelData(_ bytes: [UInt8]) throws -> Bool {
        let data: ChannelData
        do { data = try ChannelData(parsing: bytes) } catch { return false }
        try ensure(
            MediaPacketKind(datagram: bytes) == .turnChannel,
            "parsed as ChannelData but demultiplexed as \(MediaPacketKind(datagram: bytes))")
        try ensure(data.encoded == Array(bytes.prefix(4 + data.payload.count)), "ChannelData does not re-encode to its bytes")
        return true
    }
}
