import DuetWire
import Testing

@Suite("RTP packet codec")
struct RTPPacketTests {
    /// The RTP packet of libsrtp's known-answer test (srtp-notes.txt): V=2, PT=15,
    /// seq 0x1234, ts 0xdecafbad, SSRC 0xcafebabe, 16 bytes of 0xab.
    static let knownPacket: [UInt8] =
        [0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe]
        + [UInt8](repeating: 0xab, count: 16)

    @Test func parsesAndRewritesAKnownPacket() throws {
        let packet = try RTPPacket(parsing: Self.knownPacket)
        #expect(
            packet
                == RTPPacket(
                    payloadType: 15, sequenceNumber: 0x1234, timestamp: 0xdeca_fbad, ssrc: 0xcafe_babe,
                    payload: [UInt8](repeating: 0xab, count: 16)))
        #expect(try packet.serialized() == Self.knownPacket)
    }

    @Test func everyFieldSurvivesARoundTrip() throws {
        let level = RTPAudioLevel(level: 42, voiceActivity: true)
        let packet = RTPPacket(
            payloadType: RTPPayloadType.opus, sequenceNumber: 65535, timestamp: 0xFFFF_FFFF, ssrc: 0x0102_0304,
            marker: true, csrcs: [0xAABB_CCDD, 7],
            headerExtension: try RTPHeaderExtension(oneByteElements: [level.element()]),
            payload: [1, 2, 3], paddingLength: 5
        )
        let bytes = try packet.serialized()
        // V=2, P, X, CC=2 / M, PT=111
        #expect(Array(bytes.prefix(2)) == [0xB2, 0xEF])
        #expect(bytes.count == 12 + 8 + 4 + 4 + 3 + 5)
        #expect(Array(bytes.suffix(5)) == [0, 0, 0, 0, 5])
        #expect(Array(bytes[20..<28]) == [0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00])
        let parsed = try RTPPacket(parsing: bytes)
        #expect(parsed == packet)
        #expect(try parsed.audioLevel() == level)
        #expect(try RTPPacket.headerLength(of: bytes) == 28)
    }

    @Test func headerLengthLeavesPaddingAlone() throws {
        // P bit set with a nonsense padding byte: an SRTP endpoint sees exactly this before
        // decryption, so the header check must not look at the (encrypted) last byte.
        var bytes = Self.knownPacket
        bytes[0] |= 0x20
        bytes[bytes.count - 1] = 0xFF
        #expect(try RTPPacket.headerLength(of: bytes) == 12)
        #expect(throws: RTPParseError.badPaddingLength(padding: 255, available: 16)) { try RTPPacket(parsing: bytes) }
    }

    static let malformed: [(String, [UInt8], RTPParseError)] = {
        let header = Array(knownPacket.prefix(12))
        func with(first: UInt8, _ body: [UInt8]) -> [UInt8] { [first] + header.dropFirst() + body }
        return [
            ("empty", [], .tooShort(length: 0)),
            ("11 bytes", Array(header.prefix(11)), .tooShort(length: 11)),
            ("version 1", with(first: 0x40, []), .unsupportedVersion(1)),
            ("version 0 (STUN)", with(first: 0x00, [1, 2, 3, 4]), .unsupportedVersion(0)),
            ("version 3", with(first: 0xC0, []), .unsupportedVersion(3)),
            ("CSRC beyond packet", with(first: 0x82, [0, 0, 0, 1]), .csrcListBeyondPacket(count: 2, length: 16)),
            ("15 CSRCs, none present", with(first: 0x8F, []), .csrcListBeyondPacket(count: 15, length: 12)),
            ("X without extension header", with(first: 0x90, [0xBE, 0xDE]), .extensionBeyondPacket(needed: 16, length: 14)),
            (
                "extension words beyond packet", with(first: 0x90, [0xBE, 0xDE, 0, 2, 1, 2, 3, 4]),
                .extensionBeyondPacket(needed: 24, length: 20)
            ),
            (
                "extension with 65535 words", with(first: 0x90, [0xBE, 0xDE, 0xFF, 0xFF]),
                .extensionBeyondPacket(needed: 16 + 4 * 65535, length: 16)
            ),
            ("padding length 0", with(first: 0xA0, [9, 9, 0]), .badPaddingLength(padding: 0, available: 3)),
            ("padding longer than payload", with(first: 0xA0, [9, 9, 4]), .badPaddingLength(padding: 4, available: 3)),
            ("padding but no payload", with(first: 0xA0, []), .badPaddingLength(padding: 0xBE, available: 0))
        ]
    }()

    @Test(arguments: 0..<malformed.count)
    func rejectsMalformedPackets(_ index: Int) {
        let (name, bytes, expected) = Self.malformed[index]
        #expect(throws: expected, "\(name)") { try RTPPacket(parsing: bytes) }
    }

    @Test func paddingMayFillTheWholePayload() throws {
        let bytes = Array(Self.knownPacket.prefix(12)) + [0, 0, 3]
        var withPadding = bytes
        withPadding[0] |= 0x20
        let packet = try RTPPacket(parsing: withPadding)
        #expect(packet.payload.isEmpty)
        #expect(packet.paddingLength == 3)
    }

    @Test func serializerRefusesValuesTheWireCannotCarry() {
        var packet = RTPPacket(payloadType: 111, sequenceNumber: 1, timestamp: 1, ssrc: 1)
        packet.csrcs = Array(repeating: 1, count: 16)
        #expect(throws: RTPEncodeError.tooManyCSRCs(16)) { try packet.serialized() }
        packet.csrcs = []
        packet.payloadType = 128
        #expect(throws: RTPEncodeError.payloadTypeOutOfRange(128)) { try packet.serialized() }
        packet.payloadType = 111
        packet.headerExtension = RTPHeaderExtension(profile: 0x1000, data: [1, 2, 3])
        #expect(throws: RTPEncodeError.extensionNotWordAligned(byteCount: 3)) { try packet.serialized() }
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(RTPParseError.unsupportedVersion(0).description.contains("RFC 7983"))
        #expect(RTPParseError.csrcListBeyondPacket(count: 3, length: 20).description.contains("24 header bytes"))
        #expect(RTPEncodeError.tooManyCSRCs(16).description.contains("at most 15"))
    }

    /// What the media pump reads before SRTP to tell a duplicate video packet from a replay.
    @Test func theSSRCReadsFromTheFixedHeaderAlone() throws {
        let packet = try RTPPacket(payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 0xCAFE_BABE, payload: [1]).serialized()
        #expect(RTPPacket.ssrc(of: packet) == 0xCAFE_BABE)
        #expect(RTPPacket.ssrc(of: Array(packet.prefix(11))) == nil)
    }
}
