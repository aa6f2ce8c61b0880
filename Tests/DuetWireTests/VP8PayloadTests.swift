import Testing

@testable import DuetWire

/// RFC 7741's payload descriptor and the reassembly of frames from packets: in order or not,
/// with a packet missing (the frame is given up and counted), and within the bounds a sender
/// cannot push past.
@Suite("VP8 RTP payload")
struct VP8PayloadTests {
    static let frame = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }

    @Test func aFrameIsSplitUnderTheMTUWithItsStartAndPictureIDMarked() throws {
        let payloads = VP8Payload.packetize(Self.frame, pictureID: 0x1234, maximumPayload: 1200)
        #expect(payloads.count == 5)
        #expect(payloads.allSatisfy { $0.count <= 1200 })
        #expect(payloads.map { $0[0] } == [0x90, 0x80, 0x80, 0x80, 0x80])
        let descriptor = try VP8Payload.descriptor(of: payloads[0])
        #expect(descriptor == .init(startOfPartition: true, partition: 0, nonReference: false, pictureID: 0x1234, count: 4))
        #expect(payloads.flatMap { $0.dropFirst(4) } == Self.frame)
        // A frame smaller than a packet: one payload.
        #expect(VP8Payload.packetize([1, 2, 3], pictureID: 1, maximumPayload: 1200) == [[0x90, 0x80, 0x80, 0x01, 1, 2, 3]])
    }

    @Test func descriptorsOfOtherSendersParseAndShortOnesAreRefused() throws {
        // X, I with a 7-bit PictureID, L (TL0PICIDX) and T (TID): 5 bytes.
        #expect(try VP8Payload.descriptor(of: [0x90, 0xE0, 0x05, 0x11, 0x40, 0x9D]).count == 5)
        #expect(try VP8Payload.descriptor(of: [0x90, 0xE0, 0x05, 0x11, 0x40, 0x9D]).pictureID == 5)
        // No extensions at all: one byte.
        #expect(
            try VP8Payload.descriptor(of: [0x10, 0x9D])
                == .init(startOfPartition: true, partition: 0, nonReference: false, pictureID: nil, count: 1))
        #expect(throws: VP8Payload.ParseError.truncated) { try VP8Payload.descriptor(of: [0x90, 0x80, 0x80]) }
        #expect(throws: VP8Payload.ParseError.truncated) { try VP8Payload.descriptor(of: []) }
        #expect(throws: VP8Payload.ParseError.badPartition(9)) { try VP8Payload.descriptor(of: [0x19, 0x00]) }
    }

    @Test func packetsOutOfOrderMakeTheFrameAndAMissingOneLosesOnlyItsFrame() throws {
        var assembler = VP8FrameAssembler()
        let payloads = VP8Payload.packetize(Self.frame, pictureID: 7, maximumPayload: 1200)
        var made: [VP8FrameAssembler.Frame] = []
        for index in [2, 0, 4, 1, 3] {
            if let frame = try assembler.add(sequence: 100 + UInt16(index), timestamp: 9000, marker: index == 4, payload: payloads[index]) {
                made.append(frame)
            }
        }
        #expect(made.map(\.bytes) == [Self.frame])
        // A straggler copy of the finished frame changes nothing.
        #expect(try assembler.add(sequence: 102, timestamp: 9000, marker: false, payload: payloads[2]) == nil)

        // The next frame loses its third packet: nothing comes out, and the frame after it is whole.
        for index in [0, 1, 3, 4] {
            #expect(try assembler.add(sequence: 200 + UInt16(index), timestamp: 15000, marker: index == 4, payload: payloads[index]) == nil)
        }
        let next = try assembler.add(
            sequence: 300, timestamp: 21000, marker: true,
            payload: VP8Payload.packetize([0x10, 1, 2], pictureID: 9, maximumPayload: 1200)[0])
        #expect(next?.bytes == [0x10, 1, 2])
        #expect(next?.isKeyframe == true)
        #expect(assembler.framesDropped == 1)
    }

    @Test func aFrameGrowingPastTheBoundIsGivenUpNotHeld() throws {
        var assembler = VP8FrameAssembler()
        let piece = [UInt8](repeating: 0x80, count: 4) + [UInt8](repeating: 1, count: 1200)
        var sequence: UInt16 = 0
        while Int(sequence) <= VP8FrameAssembler.maximumBytes / 1200 + 1 {
            #expect(try assembler.add(sequence: sequence, timestamp: 1, marker: false, payload: piece) == nil)
            sequence += 1
        }
        _ = try assembler.add(sequence: 0, timestamp: 2, marker: true, payload: [0x90, 0x80, 0x80, 0x00, 0x10])
        #expect(assembler.framesDropped == 1)
    }
}
