import Testing

@testable import DuetWire

/// RTCP as RFC 3550 and RFC 4585 lay it out: each packet Duet sends reads back the same, a
/// compound packet with a type Duet does not use still parses, and malformed lengths are
/// refused rather than read past.
@Suite("RTCP packets")
struct RTCPPacketTests {
    static let block = RTCPReportBlock(
        source: 0x1122_3344, fractionLost: 25, cumulativeLost: -3, highestSequence: 0x0001_0005, jitter: 90, lastSenderReport: 0xAABB_CCDD,
        delaySinceLastSenderReport: 6554)

    @Test func eachKindReadsBackAsItWasWritten() throws {
        let packets: [RTCPPacket] = [
            .senderReport(
                RTCPSenderReport(
                    sender: 7, ntpTime: 0xE8F0_0000_8000_0000, rtpTime: 90_000, packetCount: 150, octetCount: 120_000, reports: [Self.block]
                )),
            .receiverReport(sender: 8, reports: [Self.block, Self.block]),
            .pictureLoss(sender: 8, media: 7),
            .nack(sender: 8, media: 7, lost: [10, 11, 13, 40, 65_535, 2]),
            .goodbye(sources: [7, 0xFFFF_FFFF])
        ]
        let compound = RTCPPacket.encode(packets)
        #expect(compound.count % 4 == 0)
        #expect(try RTCPPacket.parse(compound) == packets)
        #expect(RTCPPacket.isRTCP(compound))
    }

    @Test func theBytesAreRFC3550s() throws {
        // A receiver report from SSRC 0x01020304 with no blocks: V=2, RC=0, PT=201, length 1.
        #expect(RTCPPacket.receiverReport(sender: 0x0102_0304, reports: []).encoded == [0x80, 201, 0, 1, 1, 2, 3, 4])
        // A PLI: V=2, FMT=1, PT=206, length 2, sender, media.
        #expect(RTCPPacket.pictureLoss(sender: 1, media: 2).encoded == [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2])
        // NACK of 100 and 102: one item, PID 100, BLP bit 1.
        #expect(RTCPPacket.nack(sender: 1, media: 2, lost: [100, 102]).encoded.suffix(4) == [0, 100, 0, 2])
        // A BYE from one source, no reason: V=2, SC=1, PT=203, length 1.
        #expect(RTCPPacket.goodbye(sources: [0x0102_0304]).encoded == [0x81, 203, 0, 1, 1, 2, 3, 4])
    }

    @Test func aCompoundWithAnSDESParsesAroundIt() throws {
        let sdes: [UInt8] = [0x81, 202, 0, 2, 0, 0, 0, 9, 1, 1, 0x41, 0]
        let bytes = RTCPPacket.receiverReport(sender: 9, reports: []).encoded + sdes + RTCPPacket.pictureLoss(sender: 9, media: 3).encoded
        #expect(
            try RTCPPacket.parse(bytes) == [.receiverReport(sender: 9, reports: []), .other(type: 202), .pictureLoss(sender: 9, media: 3)])
    }

    @Test func malformedPacketsAreRefused() {
        let report = RTCPPacket.receiverReport(sender: 9, reports: [Self.block]).encoded
        #expect(throws: RTCPPacket.ParseError.badLength) { try RTCPPacket.parse(Array(report.dropLast(4))) }
        #expect(throws: RTCPPacket.ParseError.truncated) { try RTCPPacket.parse([0x80, 201]) }
        #expect(throws: RTCPPacket.ParseError.truncated) { try RTCPPacket.parse([]) }
        #expect(throws: RTCPPacket.ParseError.badVersion) { try RTCPPacket.parse([0x40, 201, 0, 0]) }
        // A report count the length cannot hold.
        #expect(throws: RTCPPacket.ParseError.badLength) { try RTCPPacket.parse([0x83, 201, 0, 1, 0, 0, 0, 1]) }
        // A BYE naming more sources than it holds.
        #expect(throws: RTCPPacket.ParseError.badLength) { try RTCPPacket.parse([0x82, 203, 0, 1, 0, 0, 0, 1]) }
        // RTP with payload type 96 (and the marker) is not RTCP; RTCP's 200 is.
        #expect(!RTCPPacket.isRTCP([0x80, 0xE0, 0, 1]))
        #expect(RTCPPacket.isRTCP([0x80, 200, 0, 6]))
    }
}
