/// Cuts the byte stream between a TURN client and server over TCP or TLS (RFC 8656 §3.1,
/// §12.5) into the messages a datagram would carry: STUN messages (20-byte header, length
/// field) and ChannelData (4-byte header, payload padded to 4 bytes on a stream). Anything
/// else in the stream is an error: the peer is not speaking TURN, and the connection must end,
/// since nothing after it can be framed. Memory is bounded: at most one frame's worth waits.
public struct TURNStreamFramer: Sendable {
    /// What cannot be framed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notTURN(firstByte: UInt8)
        public var description: String {
            switch self {
            case let .notTURN(byte): "the stream carries something that is neither STUN nor ChannelData (first byte \(byte))"
            }
        }
    }

    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes waiting for the rest of their frame.
    public var buffered: Int { buffer.count - start }

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole frame (ChannelData without its padding), or nil until more arrives.
    public mutating func next() throws(Failure) -> [UInt8]? {
        guard buffered >= 4 else { return nil }
        let first = buffer[start]
        let length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        let frame: Int
        let consumed: Int
        switch first >> 6 {
        case 0:
            frame = 20 + length
            consumed = frame
        case 1 where first <= 0x4F:  // channels 0x4000–0x4FFF (RFC 7983 gives ChannelData 64–79)
            frame = 4 + length
            consumed = (frame + 3) & ~3
        default:
            throw .notTURN(firstByte: first)
        }
        guard buffered >= consumed else { return nil }
        let bytes = Array(buffer[start..<start + frame])
        start += consumed
        if start > 65_536 {
            buffer.removeFirst(start)
            start = 0
        }
        return bytes
    }

    /// `message` as it goes on a stream: ChannelData padded to 4 bytes, STUN as it is.
    public static func frame(_ message: [UInt8]) -> [UInt8] {
        guard let first = message.first, first >> 6 == 1, message.count % 4 != 0 else { return message }
        return message + [UInt8](repeating: 0, count: 4 - message.count % 4)
    }
}
