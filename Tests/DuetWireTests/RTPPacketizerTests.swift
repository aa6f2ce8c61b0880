import DuetWire
import Testing

@Suite("RTP packetizer")
struct RTPPacketizerTests {
    @Test func stampsSSRCTypeSequenceAndTimestampAndMarksTheFirstPacket() {
        var packetizer = RTPPacketizer(ssrc: 0xDEAD_BEEF, initialSequenceNumber: 100, initialTimestamp: 5000)
        let packets = (0..<3).map { packetizer.packetize([UInt8($0)]) }
        #expect(packets.map(\.marker) == [true, false, false])
        #expect(packets.map(\.sequenceNumber) == [100, 101, 102])
        #expect(packets.map(\.timestamp) == [5000, 5960, 6920])
        #expect(packets.allSatisfy { $0.ssrc == 0xDEAD_BEEF && $0.payloadType == 111 })
        #expect(packets.map(\.payload) == [[0], [1], [2]])
    }

    @Test func sequenceAndTimestampWrap() {
        var packetizer = RTPPacketizer(ssrc: 1, initialSequenceNumber: 65534, initialTimestamp: UInt32.max - 959)
        let packets = (0..<3).map { _ in packetizer.packetize([]) }
        #expect(packets.map(\.sequenceNumber) == [65534, 65535, 0])
        #expect(packets.map(\.timestamp) == [UInt32.max - 959, 0, 960])
    }

    @Test func skippedFramesAdvanceTimeNotSequenceAndStartATalkspurt() {
        var packetizer = RTPPacketizer(ssrc: 1, initialSequenceNumber: 10, initialTimestamp: 0)
        _ = packetizer.packetize([1])
        packetizer.skipFrames(5)
        let next = packetizer.packetize([2])
        #expect(next.sequenceNumber == 11)
        #expect(next.timestamp == 960 * 6)
        #expect(next.marker)
        #expect(!packetizer.packetize([3]).marker)
    }

    @Test func packetsSerializeAndParseBack() throws {
        var packetizer = RTPPacketizer(ssrc: 42)
        let level = try RTPHeaderExtension(oneByteElements: [RTPAudioLevel(level: 30, voiceActivity: true).element()])
        let packet = packetizer.packetize(Array(repeating: 7, count: 80), headerExtension: level)
        #expect(try RTPPacket(parsing: packet.serialized()) == packet)
    }
}
