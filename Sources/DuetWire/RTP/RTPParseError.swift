/// Why received bytes are not a usable RTP packet. Each case names the field that is wrong
/// and the numbers involved, so a log line tells a peer's bug from line noise. Parsing never
/// traps: anything a socket can deliver ends in a packet or one of these.
public enum RTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the 12-byte fixed header.
    case tooShort(length: Int)
    /// The version bits are not 2 (RFC 3550 §5.1); often a STUN/DTLS packet sent to the RTP path.
    case unsupportedVersion(UInt8)
    /// The CC field announces more CSRC identifiers than the packet holds.
    case csrcListBeyondPacket(count: Int, length: Int)
    /// The X bit is set but the extension header or its data runs past the end of the packet.
    case extensionBeyondPacket(needed: Int, length: Int)
    /// The P bit is set but the last byte gives a padding length of 0 or longer than the
    /// bytes after the header.
    case badPaddingLength(padding: Int, available: Int)
    /// A header extension was read as RFC 8285 one-byte elements but its profile is not 0xBEDE.
    case notOneByteExtension(profile: UInt16)
    /// A one-byte extension element's length runs past the extension data.
    case extensionElementBeyondData(id: UInt8, offset: Int)
    /// An RFC 6464 audio-level element does not carry exactly one byte.
    case malformedAudioLevel(byteCount: Int)
    /// An RFC 9626 frame-marking element carries no byte.
    case malformedFrameMarking(byteCount: Int)

    public var description: String {
        switch self {
        case let .tooShort(length):
            "RTP packet of \(length) bytes is shorter than the 12-byte fixed header"
        case let .unsupportedVersion(version):
            "RTP version \(version) is not 2; check the demultiplexer (RFC 7983) routes only RTP here"
        case let .csrcListBeyondPacket(count, length):
            "RTP header announces \(count) CSRCs (\(12 + 4 * count) header bytes) but the packet has \(length) bytes"
        case let .extensionBeyondPacket(needed, length):
            "RTP header extension needs \(needed) bytes but the packet has \(length)"
        case let .badPaddingLength(padding, available):
            "RTP padding length \(padding) is invalid: it must be 1...\(available) (the bytes after the header)"
        case let .notOneByteExtension(profile):
            "RTP header extension profile 0x\(String(profile, radix: 16)) is not the RFC 8285 one-byte profile 0xbede"
        case let .extensionElementBeyondData(id, offset):
            "RTP one-byte extension element id \(id) at offset \(offset) runs past the extension data"
        case let .malformedAudioLevel(byteCount):
            "RFC 6464 audio level element must carry 1 byte, not \(byteCount)"
        case let .malformedFrameMarking(byteCount):
            "RFC 9626 frame marking element must carry at least 1 byte, not \(byteCount)"
        }
    }
}

/// Why an `RTPPacket` cannot be written: a field holds a value the wire format cannot carry.
public enum RTPEncodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// RFC 3550 allows at most 15 CSRC identifiers (the CC field is 4 bits).
    case tooManyCSRCs(Int)
    /// The payload type field is 7 bits.
    case payloadTypeOutOfRange(UInt8)
    /// Header extension data is counted in 32-bit words; pad it (the one-byte builder does).
    case extensionNotWordAligned(byteCount: Int)
    /// Header extension data longer than 65535 words.
    case extensionTooLong(byteCount: Int)
    /// RFC 8285 one-byte element ids are 1...14 (0 is padding, 15 is reserved).
    case extensionElementIDOutOfRange(UInt8)
    /// RFC 8285 one-byte elements carry 1...16 bytes.
    case extensionElementLengthOutOfRange(id: UInt8, byteCount: Int)

    public var description: String {
        switch self {
        case let .tooManyCSRCs(count): "RTP packet has \(count) CSRCs; at most 15 fit the CC field"
        case let .payloadTypeOutOfRange(pt): "RTP payload type \(pt) does not fit 7 bits (0...127)"
        case let .extensionNotWordAligned(n): "RTP header extension data of \(n) bytes is not a multiple of 4"
        case let .extensionTooLong(n): "RTP header extension data of \(n) bytes exceeds 65535 words"
        case let .extensionElementIDOutOfRange(id): "RTP one-byte extension id \(id) is outside 1...14"
        case let .extensionElementLengthOutOfRange(id, n): "RTP one-byte extension id \(id) carries \(n) bytes; it must carry 1...16"
        }
    }
}
