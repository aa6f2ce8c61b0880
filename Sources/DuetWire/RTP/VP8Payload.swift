/// The VP8 payload format of RFC 7741 as Duet sends it: every packet starts with a 4-byte
/// payload descriptor — X set, a 15-bit PictureID (I and M set), S on the first packet of a
/// frame, partition index 0 — then a piece of the frame; the last piece's RTP packet carries
/// the marker. One partition per frame (the encoder makes one), so S marks the frame's start.
public enum VP8Payload {
    /// Bytes of descriptor Duet writes.
    public static let descriptorCount = 4

    /// What the descriptor says.
    public struct Descriptor: Sendable, Equatable {
        /// S: the packet starts a VP8 partition (with partition 0: the frame).
        public var startOfPartition: Bool
        public var partition: UInt8
        /// N: the frame can be discarded without hurting others.
        public var nonReference: Bool
        public var pictureID: UInt16?
        /// How many bytes it took.
        public var count: Int
    }

    public enum ParseError: Error, Equatable, Sendable {
        case truncated
        /// The partition index is above 8 (RFC 7741 §4.2 allows 0–8).
        case badPartition(UInt8)
    }

    /// Splits one encoded frame into RTP payloads of at most `maximumPayload` bytes, each with
    /// its descriptor. The caller sets the marker on the last one's packet.
    public static func packetize(_ frame: [UInt8], pictureID: UInt16, maximumPayload: Int) -> [[UInt8]] {
        precondition(maximumPayload > descriptorCount, "no room for any of the frame")
        let room = maximumPayload - descriptorCount
        var payloads: [[UInt8]] = []
        var offset = 0
        repeat {
            let end = min(frame.count, offset + room)
            let id = pictureID & 0x7FFF
            var payload: [UInt8] = [offset == 0 ? 0x90 : 0x80, 0x80, 0x80 | UInt8(id >> 8), UInt8(id & 0xFF)]
            payload.reserveCapacity(descriptorCount + end - offset)
            payload.append(contentsOf: frame[offset..<end])
            payloads.append(payload)
            offset = end
        } while offset < frame.count
        return payloads
    }

    /// Reads a descriptor (any RFC 7741 sender's: short or long PictureID, TL0PICIDX, TID, KEYIDX).
    public static func descriptor(of payload: [UInt8]) throws(ParseError) -> Descriptor {
        guard let first = payload.first else { throw .truncated }
        var index = 1
        var pictureID: UInt16?
        if first & 0x80 != 0 {
            guard index < payload.count else { throw .truncated }
            let extensions = payload[index]
            index += 1
            if extensions & 0x80 != 0 {
                guard index < payload.count else { throw .truncated }
                if payload[index] & 0x80 != 0 {
                    guard index + 1 < payload.count else { throw .truncated }
                    pictureID = UInt16(payload[index] & 0x7F) << 8 | UInt16(payload[index + 1])
                    index += 2
                } else {
                    pictureID = UInt16(payload[index])
                    index += 1
                }
            }
            if extensions & 0x40 != 0 { index += 1 }  // TL0PICIDX
            if extensions & 0x30 != 0 { index += 1 }  // TID, Y, KEYIDX
        }
        guard index <= payload.count else { throw .truncated }
        let partition = first & 0x0F
        guard partition <= 8 else { throw .badPartition(partition) }
        return Descriptor(
            startOfPartition: first & 0x10 != 0, partition: partition, nonReference: first & 0x20 != 0, pictureID: pictureID, count: index)
    }

    /// The picture size a keyframe declares (RFC 6386 §9.1: after the 3-byte frame tag, the
    /// start code 9d 01 2a, then 14-bit width and height, each with 2 bits of scaling); nil for
    /// a frame that is not a keyframe or is too short to say.
    public static func keyframeSize(_ frame: ArraySlice<UInt8>) -> (width: Int, height: Int)? {
        guard isKeyframe(frame), frame.count >= 10 else { return nil }
        let bytes = Array(frame.prefix(10))
        guard bytes[3] == 0x9D, bytes[4] == 0x01, bytes[5] == 0x2A else { return nil }
        return (Int(bytes[6]) | Int(bytes[7] & 0x3F) << 8, Int(bytes[8]) | Int(bytes[9] & 0x3F) << 8)
    }

    /// Whether a frame's first bytes (after the descriptor) are a keyframe: the VP8 frame tag's
    /// P bit is 0 (RFC 6386 §9.1).
    public static func isKeyframe(_ frameStart: ArraySlice<UInt8>) -> Bool {
        guard let tag = frameStart.first else { return false }
        return tag & 0x01 == 0
    }
}

extension VP8Payload: RTPFramedPayload {
    /// A frame starts where partition 0 starts (S set, PID 0).
    public static func framing(of payload: [UInt8]) throws(ParseError) -> RTPFraming {
        let descriptor = try descriptor(of: payload)
        return RTPFraming(
            descriptorLength: descriptor.count, startsFrame: descriptor.startOfPartition && descriptor.partition == 0,
            pictureID: descriptor.pictureID)
    }

    public static func keyframe(_ frame: ArraySlice<UInt8>) -> Bool? { isKeyframe(frame) }
}
