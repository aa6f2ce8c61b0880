import DuetWire
import Testing

@Suite("RTP header extensions (RFC 8285 one-byte, RFC 6464 audio level)")
struct RTPHeaderExtensionTests {
    @Test func oneByteElementsArePackedAndPadded() throws {
        let ext = try RTPHeaderExtension(oneByteElements: [
            RTPExtensionElement(id: 1, data: [0x85]),
            RTPExtensionElement(id: 14, data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
        ])
        #expect(ext.profile == 0xBEDE)
        #expect(ext.data.count == 20)
        #expect(Array(ext.data.prefix(3)) == [0x10, 0x85, 0xEF])
        #expect(Array(ext.data.suffix(2)) == [16, 0])  // 19 bytes of elements, one of padding
        #expect(try ext.oneByteElements().map(\.id) == [1, 14])
        #expect(try ext.oneByteElements()[1].data.count == 16)
    }

    @Test func paddingBetweenElementsIsSkippedAndID15StopsParsing() throws {
        let ext = RTPHeaderExtension(profile: 0xBEDE, data: [0x00, 0x21, 0xAA, 0xBB, 0x00, 0x00, 0xF0, 0x30, 0x01, 0, 0, 0])
        let elements = try ext.oneByteElements()
        #expect(elements == [RTPExtensionElement(id: 2, data: [0xAA, 0xBB])])
    }

    @Test func elementRunningPastTheDataIsRejected() {
        let ext = RTPHeaderExtension(profile: 0xBEDE, data: [0x10, 0x42, 0x23, 0x01])
        #expect(throws: RTPParseError.extensionElementBeyondData(id: 2, offset: 2)) { try ext.oneByteElements() }
    }

    @Test func otherProfilesAreNotReadAsOneByteElements() {
        let ext = RTPHeaderExtension(profile: 0x1000, data: [0x10, 0x42, 0, 0])
        #expect(throws: RTPParseError.notOneByteExtension(profile: 0x1000)) { try ext.oneByteElements() }
    }

    @Test func builderRefusesReservedIDsAndBadLengths() {
        #expect(throws: RTPEncodeError.extensionElementIDOutOfRange(0)) {
            try RTPHeaderExtension(oneByteElements: [RTPExtensionElement(id: 0, data: [1])])
        }
        #expect(throws: RTPEncodeError.extensionElementIDOutOfRange(15)) {
            try RTPHeaderExtension(oneByteElements: [RTPExtensionElement(id: 15, data: [1])])
        }
        #expect(throws: RTPEncodeError.extensionElementLengthOutOfRange(id: 3, byteCount: 0)) {
            try RTPHeaderExtension(oneByteElements: [RTPExtensionElement(id: 3, data: [])])
        }
        #expect(throws: RTPEncodeError.extensionElementLengthOutOfRange(id: 3, byteCount: 17)) {
            try RTPHeaderExtension(oneByteElements: [RTPExtensionElement(id: 3, data: Array(repeating: 0, count: 17))])
        }
    }

    @Test func audioLevelCarriesLevelAndVoiceActivity() throws {
        #expect(RTPAudioLevel(level: 0, voiceActivity: true).element().data == [0x80])
        #expect(RTPAudioLevel(level: 127, voiceActivity: false).element(id: 5) == RTPExtensionElement(id: 5, data: [0x7F]))
        #expect(RTPAudioLevel(level: 200, voiceActivity: false).level == 127)
        #expect(try RTPAudioLevel(element: RTPExtensionElement(id: 1, data: [0xAA])) == RTPAudioLevel(level: 42, voiceActivity: true))
        #expect(throws: RTPParseError.malformedAudioLevel(byteCount: 2)) {
            try RTPAudioLevel(element: RTPExtensionElement(id: 1, data: [0xAA, 0]))
        }
    }

    @Test func packetWithoutTheAudioLevelIDHasNone() throws {
        let other = try RTPHeaderExtension(oneByteElements: [RTPExtensionElement(id: 3, data: [9])])
        let packet = RTPPacket(payloadType: 111, sequenceNumber: 0, timestamp: 0, ssrc: 0, headerExtension: other)
        #expect(try packet.audioLevel() == nil)
        #expect(try packet.audioLevel(extensionID: 3) == RTPAudioLevel(level: 9, voiceActivity: false))
        #expect(try RTPPacket(payloadType: 111, sequenceNumber: 0, timestamp: 0, ssrc: 0).audioLevel() == nil)
    }
}
