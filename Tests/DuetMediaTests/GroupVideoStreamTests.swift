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

    @Test func theSFUSeesOnlyMarkingAndCiphertextAndAWeakReceiverGetsTheLowerLayers() throws {
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
}

extension Array {
    fileprivate func repeated(_ times: Int) -> [Element] { (0..<times).flatMap { _ in self } }
}
