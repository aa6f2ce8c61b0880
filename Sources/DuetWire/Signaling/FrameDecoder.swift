/// Signaling frames on the wire: a 4-byte big-endian length, then that many bytes of JSON
/// (docs/server.md). This type only cuts a byte stream into frames; it does no I/O, so the server
/// and the client feed it whatever their sockets read.
public struct FrameDecoder: Sendable {
    /// Frames larger than this are refused before any of their body is buffered.
    public static let maximumFrameLength = 64 * 1024

    /// Why the stream cannot be read further. After an error the stream is out of sync and
    /// the connection should be told and closed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case frameTooLarge(length: Int, maximum: Int)
        case emptyFrame

        public var description: String {
            switch self {
            case let .frameTooLarge(length, maximum): "frame of \(length) bytes exceeds the \(maximum)-byte limit"
            case .emptyFrame: "frame has length 0; a frame carries one JSON message"
            }
        }
    }

    private var buffer: [UInt8] = []
    private var readIndex = 0

    public init() {}

    /// Appends bytes read from the connection.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame's body, or nil until more bytes arrive.
    public mutating func nextFrame() throws(Failure) -> [UInt8]? {
        let available = buffer.count - readIndex
        guard available >= Self.prefixLength else { return nil }
        let length = try Self.bodyLength(prefix: buffer[readIndex..<readIndex + Self.prefixLength])
        guard available >= 4 + length else { return nil }
        let body = Array(buffer[readIndex + 4..<readIndex + 4 + length])
        readIndex += 4 + length
        if readIndex > 4096 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        return body
    }

    /// The bytes of the big-endian length in front of every frame.
    public static let prefixLength = 4

    /// The body length a frame's 4-byte prefix declares, refused when no frame may have it.
    /// The one place the frame limits are checked on reading: `nextFrame()` and the NIO
    /// pipeline's `SignalingFrameDecoder` both ask it, so they cannot disagree.
    public static func bodyLength(prefix: some Collection<UInt8>) throws(Failure) -> Int {
        precondition(prefix.count == prefixLength, "a frame's length prefix is \(prefixLength) bytes")
        let length = prefix.reduce(0) { ($0 << 8) | Int($1) }
        guard length <= maximumFrameLength else { throw .frameTooLarge(length: length, maximum: maximumFrameLength) }
        guard length > 0 else { throw .emptyFrame }
        return length
    }

    /// Bytes received but not yet part of a complete frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Prefixes `body` with its length, ready to write.
    public static func frame(_ body: [UInt8]) throws(Failure) -> [UInt8] {
        try prefix(forBodyOf: body.count) + body
    }

    /// The length prefix for a body of `count` bytes, refused when no frame may have it: the
    /// one place the frame limits are checked on writing (`frame(_:)` and the NIO pipeline's
    /// `SignalingFrameEncoder`).
    public static func prefix(forBodyOf count: Int) throws(Failure) -> [UInt8] {
        guard count <= maximumFrameLength else { throw .frameTooLarge(length: count, maximum: maximumFrameLength) }
        guard count > 0 else { throw .emptyFrame }
        let n = UInt32(count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
    }
}
