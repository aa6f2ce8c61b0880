import DuetCrypto
import DuetWire
import Testing

@testable import DuetMedia

/// A group call's video stream without sockets (docs/video.md "Group calls"): the sender's
/// frames SFrame-sealed whole under its sender key with frame marking, through a stand-in for
/// the SFU that reads only the frame marking — forwarding everything to one receiver, and to a
/// weak one only the two lower temporal layers, renumbered as an SFU renumbers what it drops —
/// to receivers that hold the sender key, and one that does not.
@Suite("Group video stream: SFrame per frame, frame marking, temporal layers")
struct GroupVideoStreamTests {
    static let ssrc: UInt32 = 0x3333

    /// `pictures` frame times of one member's camera, as the SFU reads them after the hop's SRTP.
    static func sent(_ pictures: Int, key: SecureBytes) throws -> [RTPPacket] {
        let sealing = try SFrameSender()
        try sealing.setKey(key, keyID: 7)
        var sender = try VideoSender(camera: SyntheticCamera(person: "+15557001"), ssrc: ssrc, sealing: sealing)
        let hop = SecureBytes(randomCount: 30)
        let protect = try SRTPSession(role: .sender, masterKey: hop), unprotect = try SRTPSession(role: .receiver, masterKey: hop)
        var packets: [RTPPacket] = []
        for index in 0..<pictures {
            for bytes in try sender.nextPicture(index: index, stampMilliseconds: index * 66, srtp: protect) {
                packets.append(try RTPPacket(parsing: try unprotect.unprotect(bytes)))
            }
        }
        return packets
    }

    /// A receiver of the stream holding `key` (or none).
    static func receiver(key: SecureBytes?) throws -> VideoReceiver {
        let opening = try SFrameReceiver()
        if let key { try opening.addKey(key, keyID: 7) }
        return try VideoReceiver(media: ssrc, ssrc: 0x4444, people: ["+15557001"], opening: opening)
    }

    @Test func theSFUReadsOnlyMarkingAndCiphertextAndTheLowerLayersDecodeAlone() throws {
        let key = SecureBytes(randomCount: 32)
        let packets = try Self.sent(45, key: key)
        let markings = try packets.map { try #require(try $0.frameMarking()) }
        // Each frame's packets: S on the first, E on the last (the marker's), I on a keyframe's.
        #expect(zip(packets, markings).allSatisfy { $0.marker == $1.endOfFrame })
        #expect(markings.filter(\.startOfFrame).count == 45 && markings.first?.independent == true)
        #expect(markings.filter(\.startOfFrame).map(\.temporalLayer) == Array([0, 2, 1, 2].repeated(12).prefix(45)))
        // No VP8 in the clear: a keyframe's first payload is SFrame, not a VP8 frame header.
        for (packet, marking) in zip(packets, markings) where marking.startOfFrame && marking.independent {
            #expect(packet.payload[0] & 0x80 != 0 && VP8Payload.keyframeSize(packet.payload[1...]) == nil)
        }

        // Everything to one receiver; to a weak one, layers 0 and 1 only, renumbered.
        var all = try Self.receiver(key: key)
        for packet in packets { all.receive(packet, at: 0) }
        var weak = try Self.receiver(key: key)
        var sequence: UInt16 = 1
        for (packet, marking) in zip(packets, markings) where marking.temporalLayer < 2 {
            var forwarded = packet
            forwarded.sequenceNumber = sequence
            sequence &+= 1
            weak.receive(forwarded, at: 0)
        }
        #expect(all.picturesShown == 45 && all.seen(at: 0).person == "+15557001")
        #expect(weak.picturesShown == 23, "every other picture: \(weak.picturesShown)")
        for receiver in [all, weak] {
            #expect(receiver.decodeErrors == 0 && receiver.framesUnopened == 0 && receiver.keyframeRequests == 0)
        }

        // Without the sender key nothing opens: no picture, and a keyframe is wanted.
        var outsider = try Self.receiver(key: nil)
        for packet in packets { outsider.receive(packet, at: 0) }
        #expect(outsider.picturesShown == 0 && outsider.framesUnopened > 0)
    }

    /// The frame marking travels in the clear: an SFU that marks a delta frame "independent"
    /// after the keyframe was lost does not get it decoded — the opened bytes say what it is.
    @Test func aKeyframeIsTakenFromTheOpenedFrameNotTheMarking() throws {
        let key = SecureBytes(randomCount: 32)
        let packets = try Self.sent(6, key: key)
        let starts = packets.indices.filter { ((try? packets[$0].frameMarking()) ?? nil)?.startOfFrame == true }
        var lying = try Self.receiver(key: key)
        for var packet in packets[starts[1]...] {
            if var marking = try packet.frameMarking() {
                marking.independent = true
                packet.headerExtension = try RTPHeaderExtension(oneByteElements: [marking.element()])
            }
            lying.receive(packet, at: 0)
        }
        #expect(lying.picturesShown == 0 && lying.decodeErrors == 0)
        #expect(lying.feedback(at: 0).contains(.pictureLoss(sender: 0x4444, media: Self.ssrc)), "a keyframe is asked for")
    }

    /// An audio frame of the same sender, sealed under the same key without the video's
    /// metadata, does not open as video (nor a video frame as audio).
    @Test func anAudioFrameCannotBePassedOffAsVideo() throws {
        let key = SecureBytes(randomCount: 32)
        let sealing = try SFrameSender()
        try sealing.setKey(key, keyID: 7)
        let audio = try sealing.encrypt(Array(repeating: 7, count: 60))
        var receiver = try Self.receiver(key: key)
        let payload = SFramePayload.packetize(audio, maximumPayload: 1_000)[0]
        let marking = RTPFrameMarking(startOfFrame: true, endOfFrame: true, independent: true)
        receiver.receive(
            RTPPacket(
                payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: Self.ssrc, marker: true,
                headerExtension: try RTPHeaderExtension(oneByteElements: [marking.element()]), payload: payload), at: 0)
        #expect(receiver.framesUnopened == 1 && receiver.picturesShown == 0)
        let video = try sealing.encrypt([1, 2, 3], metadata: VideoSender.sealedMetadata)
        let opening = try SFrameReceiver()
        try opening.addKey(key, keyID: 7)
        #expect(throws: SFrameError.self) { try opening.decrypt(video) }
    }
}

extension Array {
    fileprivate func repeated(_ times: Int) -> [Element] { (0..<times).flatMap { _ in self } }
}
