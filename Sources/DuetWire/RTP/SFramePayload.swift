/// The RTP payload format of SFrame (draft-ietf-avtcore-rtp-sframe), per frame: a whole
/// encoded frame is SFrame-encrypted once and the ciphertext split across packets, each
/// behind a one-byte descriptor — S on the first, E on the last, T clear (the frame was not
/// packetized before encryption), five reserved bits sent as zero and ignored.
///
/// Group video (docs/video.md): the SFU sees only these descriptors and the frame marking.
public enum SFramePayload: RTPFramedPayload {
    public enum ParseError: Error, Equatable, Sendable {
        /// An empty payload: not even the descriptor.
        case truncated
    }

    static let start: UInt8 = 0x80
    static let end: UInt8 = 0x40

    /// Splits one SFrame ciphertext into payloads of at most `maximumPayload` bytes, each with
    /// its descriptor. The caller sets the marker on the last one's packet.
    public static func packetize(_ frame: [UInt8], maximumPayload: Int) -> [[UInt8]] {
        let room = max(1, maximumPayload - 1)
        var payloads: [[UInt8]] = []
        var offset = 0
        repeat {
            let end = min(frame.count, offset + room)
            let descriptor = (offset == 0 ? start : 0) | (end == frame.count ? Self.end : 0)
            payloads.append([descriptor] + frame[offset..<end])
            offset = end
        } while offset < frame.count
        return payloads
    }

    public static func framing(of payload: [UInt8]) throws(ParseError) -> RTPFraming {
        guard let descriptor = payload.first else { throw .truncated }
        return RTPFraming(descriptorLength: 1, startsFrame: descriptor & start != 0)
    }

    /// Ciphertext says nothing: the packet's frame marking does.
    public static func keyframe(_ frame: ArraySlice<UInt8>) -> Bool? { nil }
}
