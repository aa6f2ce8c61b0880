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

    /// The payloads of a small frame `tag` at `timestamp`, from sequence number `first`.
    static func smallFrame(_ tag: UInt8, first: UInt16, timestamp: UInt32) -> [(UInt16, UInt32, Bool, [UInt8])] {
        let payloads = VP8Payload.packetize(
            [0x11, tag] + [UInt8](repeating: tag, count: 2000), pictureID: UInt16(tag), maximumPayload: 1200)
        return payloads.enumerated().map { (first &+ UInt16($0.offset), timestamp, $0.offset == payloads.count - 1, $0.element) }
    }

    @Test func packetsOutOfOrderMakeTheFrame() throws {
        var assembler = VP8FrameAssembler()
        let payloads = VP8Payload.packetize(Self.frame, pictureID: 7, maximumPayload: 1200)
        var made: [VP8FrameAssembler.Frame] = []
        for index in [2, 0, 4, 1, 3] {
            made += try assembler.add(sequence: 100 + UInt16(index), timestamp: 9000, marker: index == 4, payload: payloads[index])
        }
        #expect(made.map(\.bytes) == [Self.frame])
        // A straggler copy of the finished frame changes nothing.
        #expect(try assembler.add(sequence: 102, timestamp: 9000, marker: false, payload: payloads[2]).isEmpty)
    }

    /// A packet sent again after a NACK, a few frames later, still completes its frame, and
    /// the frames held behind it come out after it, in order.
    @Test func aLatePacketCompletesItsFrameAndTheOnesBehindItFollow() throws {
        var assembler = VP8FrameAssembler()
        var packets = (0..<4).flatMap { Self.smallFrame(UInt8($0), first: 65_534 &+ UInt16($0 * 2), timestamp: UInt32($0) * 6000) }
        let lost = packets.remove(at: 3)  // frame 1's second packet
        var made: [VP8FrameAssembler.Frame] = []
        for (sequence, timestamp, marker, payload) in packets {
            made += try assembler.add(sequence: sequence, timestamp: timestamp, marker: marker, payload: payload)
        }
        #expect(made.map { $0.bytes[1] } == [0], "frames 2 and 3 wait behind frame 1")
        made += try assembler.add(sequence: lost.0, timestamp: lost.1, marker: lost.2, payload: lost.3)
        #expect(made.map { $0.bytes[1] } == [0, 1, 2, 3])
        #expect(assembler.framesDropped == 0)
    }

    /// A packet that never comes: once more than `framesHeld` frames wait behind it, its frame
    /// is given up and counted, and the rest come out. A whole frame lost is a gap too.
    @Test func aGapThatDoesNotFillIsGivenUpAfterTheFramesHeld() throws {
        var assembler = VP8FrameAssembler()
        var packets = (0..<8).flatMap { Self.smallFrame(UInt8($0), first: UInt16($0 * 2), timestamp: UInt32($0) * 6000) }
        packets.remove(at: 3)  // frame 1 loses a packet
        packets.removeSubrange(9..<11)  // frame 5 is lost whole (its packets moved up by one)
        var made: [VP8FrameAssembler.Frame] = []
        for (sequence, timestamp, marker, payload) in packets {
            made += try assembler.add(sequence: sequence, timestamp: timestamp, marker: marker, payload: payload)
        }
        #expect(made.map { $0.bytes[1] } == [0, 2, 3, 4])
        // Frames 6 and 7 wait behind the lost frame 5 until more come.
        for tag in 8..<12 {
            for (sequence, timestamp, marker, payload) in Self.smallFrame(UInt8(tag), first: UInt16(tag * 2), timestamp: UInt32(tag) * 6000)
            {
                made += try assembler.add(sequence: sequence, timestamp: timestamp, marker: marker, payload: payload)
            }
        }
        #expect(made.map { $0.bytes[1] } == [0, 2, 3, 4, 6, 7, 8, 9, 10, 11])
        #expect(assembler.framesDropped == 2)
    }

    @Test func aFrameGrowingPastTheBoundIsGivenUpNotHeld() throws {
        var assembler = VP8FrameAssembler()
        let piece = [UInt8](repeating: 0x80, count: 4) + [UInt8](repeating: 1, count: 1200)
        for sequence in 0...UInt16(VP8FrameAssembler.maximumBytes / 1200 + 1) {
            #expect(try assembler.add(sequence: sequence, timestamp: 1, marker: false, payload: piece).isEmpty)
        }
        // The oversized frame never completes; frames after it come out once it is given up.
        var made: [VP8FrameAssembler.Frame] = []
        for tag in 1...5 {
            for (sequence, timestamp, marker, payload) in Self.smallFrame(
                UInt8(tag), first: 1000 + UInt16(tag * 2), timestamp: UInt32(tag) * 6000 + 1)
            {
                made += try assembler.add(sequence: sequence, timestamp: timestamp, marker: marker, payload: payload)
            }
        }
        #expect(made.map { $0.bytes[1] } == [1, 2, 3, 4, 5])
        #expect(assembler.framesDropped == 1)
    }
}
