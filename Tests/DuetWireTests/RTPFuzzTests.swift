import DuetFuzzing
import DuetWire
import Testing

/// RTP headers are read before authentication (the SFU routes by SSRC and reads the audio
/// level in the clear), so the parser sees whatever reaches the port. Random buffers and
/// mutations of real packets — CSRCs, RFC 8285 one-byte extensions with the RFC 6464 audio
/// level, another profile's extension, padding — must parse or fail with `RTPParseError`, and
/// every packet accepted writes back to the same bytes (padding contents aside).
@Suite("RTP parser fuzz")
struct RTPFuzzTests {
    static let packets: [RTPPacket] = {
        let level = try! RTPHeaderExtension(oneByteElements: [
            RTPAudioLevel(level: 30, voiceActivity: true).element(),
            RTPExtensionElement(id: 14, data: Array(0..<16))
        ])
        return [
            RTPPacket(payloadType: 111, sequenceNumber: 1, timestamp: 960, ssrc: 0x1234_5678, payload: Array(0..<60)),
            RTPPacket(
                payloadType: 111, sequenceNumber: .max, timestamp: .max, ssrc: 7, marker: true, csrcs: [1, 2, 0xFFFF_FFFF],
                headerExtension: level, payload: Array(0..<20)),
            RTPPacket(
                payloadType: 0, sequenceNumber: 9, timestamp: 0, ssrc: 0, csrcs: Array(0..<15),
                headerExtension: RTPHeaderExtension(profile: 0x1000, data: Array(0..<12)), payload: [0xF8], paddingLength: 7),
            RTPPacket(
                payloadType: 127, sequenceNumber: 2, timestamp: 1, ssrc: 3, headerExtension: RTPHeaderExtension(profile: 0xBEDE, data: []),
                paddingLength: 1)
        ]
    }()
    static let samples = packets.map { try! $0.serialized() }

    @Test func validSamplesRoundTrip() throws {
        for (packet, bytes) in zip(Self.packets, Self.samples) { #expect(try RTPPacket(parsing: bytes) == packet) }
        #expect(try RTPPacket(parsing: Self.samples[1]).audioLevel() == RTPAudioLevel(level: 30, voiceActivity: true))
    }

    /// Found by fuzzing: a one-byte extension header byte with id 0 and a length came back as an
    /// element with id 0, which RFC 8285 §4.2 keeps for padding and which cannot be written back.
    /// It now ends the list, as id 15 does (and as libwebrtc reads it).
    @Test func anIDZeroHeaderByteEndsTheElements() throws {
        let padded = RTPHeaderExtension(profile: RTPHeaderExtension.oneByteProfile, data: [0x10, 0x9E, 0x00, 0x01, 0x02, 0x03, 0x20, 0x05])
        #expect(try padded.oneByteElements() == [RTPExtensionElement(id: 1, data: [0x9E])])
    }

    @Test func mutatedPacketsParseOrFailTyped() {
        let report = FuzzTarget("RTP packets", defaultIterations: 4000).run(samples: Self.samples) { input, _ in
            try Self.check(input)
        }
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    /// Random buffers, half of them given version 2 and small CSRC/extension fields to get
    /// past the first check into the CSRC, extension and padding logic.
    @Test func randomBuffersParseOrFailTyped() {
        let report = FuzzTarget("RTP random buffers", defaultIterations: 4000).run(
            { random in
                let length = Int.random(in: 0...96, using: &random)
                var bytes = Mutator.randomBytes(length, using: &random)
                if length > 0, Bool.random(using: &random) {
                    bytes[0] = 0x80 | (bytes[0] & 0x30) | (bytes[0] & 0x03)
                    if length > 15 && bytes[0] & 0x10 != 0 && Bool.random(using: &random) {
                        let at = 12 + 4 * Int(bytes[0] & 0x0F)
                        if at + 3 < length {
                            bytes[at + 2] = 0
                            bytes[at + 3] = UInt8.random(in: 0...4, using: &random)
                        }
                    }
                }
                return bytes
            }, property: { input, _ in try Self.check(input) })
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    /// Every prefix of a random valid packet shorter than its header fails with a length
    /// error; longer prefixes may parse (the payload is opaque) but never trap.
    @Test func truncatedPacketsAreRejected() {
        let report = FuzzTarget("RTP truncation", defaultIterations: 200, cost: 20).run(
            { random in
                let csrcs = (0..<Int.random(in: 0...15, using: &random)).map { _ in UInt32.random(in: 0...UInt32.max, using: &random) }
                let elements = (0..<Int.random(in: 0...3, using: &random)).map { i in
                    RTPExtensionElement(id: UInt8(i + 1), data: Mutator.randomBytes(Int.random(in: 1...16, using: &random), using: &random))
                }
                let packet = RTPPacket(
                    payloadType: UInt8.random(in: 0...127, using: &random), sequenceNumber: .random(in: 0...UInt16.max, using: &random),
                    timestamp: .random(in: 0...UInt32.max, using: &random), ssrc: .random(in: 0...UInt32.max, using: &random),
                    marker: Bool.random(using: &random), csrcs: csrcs,
                    headerExtension: elements.isEmpty ? nil : try! RTPHeaderExtension(oneByteElements: elements),
                    payload: Mutator.randomBytes(Int.random(in: 0...200, using: &random), using: &random),
                    paddingLength: Bool.random(using: &random) ? UInt8.random(in: 1...32, using: &random) : 0)
                return try! packet.serialized()
            },
            property: { bytes, _ in
                try ensure((try? RTPPacket(parsing: bytes))?.serialized() == bytes, "a valid packet does not round-trip")
                let headerLength = try RTPPacket.headerLength(of: bytes)
                for cut in 0..<headerLength {
                    do {
                        _ = try RTPPacket(parsing: Array(bytes.prefix(cut)))
                        throw FuzzViolation("a \(cut)-byte prefix of a \(headerLength)-byte header parsed")
                    } catch let error as RTPParseError {
                        switch error {
                        case .tooShort, .csrcListBeyondPacket, .extensionBeyondPacket: break
                        default: throw FuzzViolation("prefix \(cut): unexpected \(error)")
                        }
                    }
                }
                for cut in headerLength..<bytes.count { _ = try Self.check(Array(bytes.prefix(cut))) }
                return .accepted
            })
        #expect(report.isClean, "\(report)")
    }

    /// The array and raw-buffer parsers agree; an accepted packet re-serializes to its bytes
    /// (padding written as zeros), its header length is what the layout says, and its
    /// extension elements and audio level read without leaving the extension.
    static func check(_ bytes: [UInt8]) throws -> FuzzOutcome {
        let parsed = Result { () throws(RTPParseError) in try RTPPacket(parsing: bytes) }
        let raw = bytes.withUnsafeBytes { buffer in Result { () throws(RTPParseError) in try RTPPacket(parsing: buffer) } }
        try ensure(parsed == raw, "array and raw-buffer parsers disagree: \(parsed) vs \(raw)")
        guard case let .success(packet) = parsed else { return .rejected }
        try ensure(MediaPacketKind(datagram: bytes) == .rtp, "parsed as RTP but demultiplexed as \(MediaPacketKind(datagram: bytes))")
        let rewritten = try packet.serialized()
        let padding = Int(packet.paddingLength)
        try ensure(
            rewritten.count == bytes.count && rewritten.prefix(bytes.count - padding) == bytes.prefix(bytes.count - padding)
                && (padding == 0 || rewritten.last == bytes.last), "re-serialized to different bytes: \(rewritten.hex)")
        let expectedHeader = 12 + 4 * packet.csrcs.count + (packet.headerExtension.map { 4 + $0.data.count } ?? 0)
        try ensure((try? RTPPacket.headerLength(of: bytes)) == expectedHeader, "header length disagrees with the parsed fields")
        if let headerExtension = packet.headerExtension, headerExtension.profile == RTPHeaderExtension.oneByteProfile,
            let elements = try? headerExtension.oneByteElements()
        {
            try ensure(
                elements.allSatisfy { (1...14).contains($0.id) && (1...16).contains($0.data.count) }, "element out of range: \(elements)")
        }
        _ = try? packet.audioLevel()
        return .accepted
    }
}
