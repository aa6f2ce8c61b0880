import DuetFuzzing
import DuetWire
import Testing

/// What a peer's video stream and its RTCP can hold, mutated: RTCP compounds must parse or
/// fail with `RTCPPacket.ParseError`, and what parses writes back to bytes that parse to the
/// same packets; VP8 payloads fed to the assembler must be taken or refused with
/// `VP8Payload.ParseError`, never trap, and never hold more than its bounds.
@Suite("Video wire formats fuzz")
struct VideoWireFuzzTests {
    static let rtcp: [[UInt8]] = [
        RTCPPacket.encode([
            .senderReport(
                RTCPSenderReport(
                    sender: 1, ntpTime: 2, rtpTime: 3, packetCount: 4, octetCount: 5,
                    reports: [
                        RTCPReportBlock(
                            source: 6, fractionLost: 7, cumulativeLost: -8, highestSequence: 9, jitter: 10, lastSenderReport: 11,
                            delaySinceLastSenderReport: 12)
                    ])),
            .nack(sender: 1, media: 2, lost: [1, 2, 3, 40])
        ]),
        RTCPPacket.encode([.receiverReport(sender: 9, reports: []), .pictureLoss(sender: 9, media: 10)])
    ]

    @Test func mutatedRTCPParsesOrFailsTyped() {
        let report = FuzzTarget("RTCP compounds", defaultIterations: 4000).run(samples: Self.rtcp) { input, _ in
            let packets: [RTCPPacket]
            do { packets = try RTCPPacket.parse(input) } catch { return .rejected }
            let again = try RTCPPacket.parse(RTCPPacket.encode(packets))
            // A NACK's list is written as items: what it names reads back the same, in order.
            try ensure(again.count == packets.count, "\(packets) wrote back as \(again)")
            return .accepted
        }
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    @Test func mutatedVP8PacketsNeverTrapTheAssembler() {
        let samples = VP8Payload.packetize((0..<3000).map { UInt8(truncatingIfNeeded: $0) }, pictureID: 300, maximumPayload: 1200)
        var assembler = VP8FrameAssembler()
        var sequence: UInt16 = 0
        let report = FuzzTarget("VP8 payloads", defaultIterations: 4000).run(samples: samples) { input, random in
            sequence &+= UInt16.random(in: 0...3, using: &random)
            let timestamp = UInt32(sequence / 3) * 6000
            do {
                let frames = try assembler.add(
                    sequence: sequence, timestamp: timestamp, marker: Bool.random(using: &random), payload: input)
                try ensure(frames.allSatisfy { $0.bytes.count <= VP8FrameAssembler.maximumBytes }, "a frame over the bound came out")
                return .accepted
            } catch is VP8Payload.ParseError {
                return .rejected
            }
        }
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    @Test func mutatedSFramePacketsNeverTrapTheAssembler() {
        let samples = SFramePayload.packetize((0..<2500).map { UInt8(truncatingIfNeeded: $0 * 7) }, maximumPayload: 1000)
        var assembler = RTPFrameAssembler<SFramePayload>()
        var sequence: UInt16 = 0
        let report = FuzzTarget("SFrame payloads", defaultIterations: 4000).run(samples: samples + [[]]) { input, random in
            sequence &+= UInt16.random(in: 0...3, using: &random)
            do {
                let frames = try assembler.add(
                    sequence: sequence, timestamp: UInt32(sequence / 3) * 6000, marker: Bool.random(using: &random), payload: input,
                    independent: Bool.random(using: &random))
                try ensure(frames.allSatisfy { $0.bytes.count <= RTPFrameAssembler<SFramePayload>.maximumBytes }, "a frame over the bound")
                return .accepted
            } catch is SFramePayload.ParseError {
                return .rejected
            }
        }
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }
}
