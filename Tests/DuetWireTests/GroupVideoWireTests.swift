import Testing

@testable import DuetWire

/// The wire of group video (docs/video.md): RFC 9626 frame marking, the only video metadata
/// the SFU reads, and SFrame's RTP payload per frame (draft-ietf-avtcore-rtp-sframe), whose
/// packets reassemble into the ciphertext that was split.
@Suite("Group video on the wire")
struct GroupVideoWireTests {
    @Test func frameMarkingIsRFC9626sOneByteForm() throws {
        let keyframeStart = RTPFrameMarking(
            startOfFrame: true, endOfFrame: false, independent: true, baseLayerSync: false, temporalLayer: 0)
        #expect(keyframeStart.byte == 0b1010_0000)
        let upper = RTPFrameMarking(
            startOfFrame: false, endOfFrame: true, independent: false, discardable: true, baseLayerSync: true, temporalLayer: 2)
        #expect(upper.byte == 0b0101_1010)
        // In a packet's one-byte header extension beside the audio level, read back by id.
        let packet = RTPPacket(
            payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, marker: true,
            headerExtension: try RTPHeaderExtension(oneByteElements: [
                RTPAudioLevel(level: 30, voiceActivity: true).element(), upper.element()
            ]),
            payload: [1])
        let parsed = try RTPPacket(parsing: try packet.serialized())
        #expect(try parsed.frameMarking() == upper)
        #expect(try RTPPacket(payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: [1]).frameMarking() == nil)
        // The scalable form's two further bytes are ignored; the temporal layer is its low 3 bits.
        #expect(try RTPFrameMarking(element: RTPExtensionElement(id: 2, data: [0b1000_0111, 9, 9])).temporalLayer == 7)
        #expect(throws: RTPParseError.malformedFrameMarking(byteCount: 0)) {
            try RTPFrameMarking(element: RTPExtensionElement(id: 2, data: []))
        }
    }

    @Test func anSFrameCiphertextSplitsAndComesBackWhole() throws {
        let ciphertext = (0..<2_500).map { UInt8(truncatingIfNeeded: $0 * 13) }
        let payloads = SFramePayload.packetize(ciphertext, maximumPayload: 1_000)
        #expect(payloads.map(\.count) == [1_000, 1_000, 503])
        #expect(payloads.map { $0[0] } == [0x80, 0x00, 0x40], "S on the first, E on the last, T and the rest clear")
        #expect(SFramePayload.packetize([7], maximumPayload: 1_000) == [[0xC0, 7]])
        // Out of order, one packet twice: one frame, keyframe as the marking said.
        var assembler = RTPFrameAssembler<SFramePayload>()
        var frames: [RTPFrameAssembler<SFramePayload>.Frame] = []
        for index in [2, 0, 0, 1] {
            frames += try assembler.add(
                sequence: UInt16(100 + index), timestamp: 9_000, marker: index == 2, payload: payloads[index], independent: index == 0)
        }
        #expect(frames.count == 1)
        #expect(frames.first?.bytes == ciphertext && frames.first?.isKeyframe == true)
        // The next frame, marked as depending on others.
        let next = try assembler.add(sequence: 103, timestamp: 15_000, marker: true, payload: [0xC0, 1, 2])
        #expect(next.map(\.bytes) == [[1, 2]] && next.first?.isKeyframe == false)
        #expect(throws: SFramePayload.ParseError.truncated) {
            try assembler.add(sequence: 104, timestamp: 21_000, marker: true, payload: [])
        }
    }
}
