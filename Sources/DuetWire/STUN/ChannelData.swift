/// A TURN ChannelData message (RFC 8656 §12.4): 4 bytes of header instead of a whole
/// Send/Data indication, for peers bound to a channel number 0x4000–0x4FFF.
public struct ChannelData: Equatable, Sendable {
    public static let channelRange: ClosedRange<UInt16> = 0x4000...0x4FFF
    public let channel: UInt16
    public let payload: [UInt8]

    public init(channel: UInt16, payload: [UInt8]) {
        precondition(Self.channelRange.contains(channel), "channel numbers are 0x4000–0x4FFF")
        precondition(payload.count <= 0xFFFF, "a ChannelData payload's length is 16 bits")
        self.channel = channel
        self.payload = payload
    }

    /// Parses one datagram; padding after the declared length is allowed (over UDP it is optional).
    public init(parsing bytes: [UInt8]) throws(STUNError) {
        guard bytes.count >= 4 else { throw .tooShort(bytes.count) }
        let channel = readUInt16(bytes, 0), length = Int(readUInt16(bytes, 2))
        guard Self.channelRange.contains(channel) else { throw .notSTUN }
        guard 4 + length <= bytes.count, bytes.count - 4 - length < 4 else {
            throw .lengthMismatch(declared: length, actual: bytes.count - 4)
        }
        self.init(channel: channel, payload: Array(bytes[4..<4 + length]))
    }

    /// The message on the wire, made in one allocation (the relay frames every packet it
    /// sends a client this way).
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 + payload.count)
        bytes.append(UInt8(channel >> 8))
        bytes.append(UInt8(channel & 0xFF))
        bytes.append(UInt8(payload.count >> 8))
        bytes.append(UInt8(payload.count & 0xFF))
        bytes += payload
        return bytes
    }
}
