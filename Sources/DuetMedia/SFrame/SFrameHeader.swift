/// The SFrame header (RFC 9605 §4.3): a key ID naming the sender key epoch and a counter
/// that makes each frame's nonce unique, each carried in 0 to 8 bytes.
///
/// Both are `UInt64` end to end: real values (and 93 of the RFC's vectors) exceed 2^53,
/// which a trip through `Double` would corrupt.
public struct SFrameHeader: Equatable, Hashable, Sendable {
    /// Config byte plus 8 bytes of KID plus 8 bytes of CTR.
    public static let maximumLength = 17

    public var keyID: UInt64
    public var counter: UInt64

    public init(keyID: UInt64, counter: UInt64) {
        self.keyID = keyID
        self.counter = counter
    }

    /// Why bytes are not an SFrame header.
    public enum Problem: Equatable, Sendable, CustomStringConvertible {
        /// No bytes at all.
        case empty
        /// The config byte announces more KID/CTR bytes than are present.
        case truncated(needed: Int, length: Int)
        /// A KID or CTR written with more bytes than needed. RFC 9605 requires the minimum;
        /// Duet rejects anything else so each (KID, CTR) has exactly one encoding.
        case nonMinimalKeyID
        case nonMinimalCounter

        public var description: String {
            switch self {
            case .empty: "no bytes"
            case let .truncated(needed, length): "config byte announces a \(needed)-byte header but only \(length) bytes are present"
            case .nonMinimalKeyID: "KID is not encoded in the minimum number of bytes"
            case .nonMinimalCounter: "CTR is not encoded in the minimum number of bytes"
            }
        }
    }

    /// Bytes `encoded()` produces.
    public var encodedLength: Int { 1 + Self.extendedLength(keyID) + Self.extendedLength(counter) }

    /// The header's wire form.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedLength)
        encode(into: &out)
        return out
    }

    /// Appends the wire form: config byte, then KID bytes, then CTR bytes, big-endian.
    public func encode(into out: inout [UInt8]) {
        let kidBytes = Self.extendedLength(keyID)
        let ctrBytes = Self.extendedLength(counter)
        let kidField: UInt8 = kidBytes == 0 ? UInt8(keyID) : 0x08 | UInt8(kidBytes - 1)
        let ctrField: UInt8 = ctrBytes == 0 ? UInt8(counter) : 0x08 | UInt8(ctrBytes - 1)
        out.append(kidField << 4 | ctrField)
        Self.appendBigEndian(keyID, bytes: kidBytes, to: &out)
        Self.appendBigEndian(counter, bytes: ctrBytes, to: &out)
    }

    /// Decodes the header at the start of `bytes`; returns it and its length.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(SFrameError) -> (header: SFrameHeader, length: Int) {
        guard let config = bytes.first else { throw .malformedHeader(.empty) }
        let kidBytes = config & 0x80 != 0 ? Int((config >> 4) & 0x07) + 1 : 0
        let ctrBytes = config & 0x08 != 0 ? Int(config & 0x07) + 1 : 0
        let length = 1 + kidBytes + ctrBytes
        guard bytes.count >= length else { throw .malformedHeader(.truncated(needed: length, length: bytes.count)) }
        let keyID = kidBytes == 0 ? UInt64((config >> 4) & 0x07) : readBigEndian(bytes, from: 1, count: kidBytes)
        let counter = ctrBytes == 0 ? UInt64(config & 0x07) : readBigEndian(bytes, from: 1 + kidBytes, count: ctrBytes)
        guard extendedLength(keyID) == kidBytes else { throw .malformedHeader(.nonMinimalKeyID) }
        guard extendedLength(counter) == ctrBytes else { throw .malformedHeader(.nonMinimalCounter) }
        return (SFrameHeader(keyID: keyID, counter: counter), length)
    }

    /// `decode(_:)` for an array.
    public static func decode(_ bytes: [UInt8]) throws(SFrameError) -> (header: SFrameHeader, length: Int) {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(SFrameError) in try decode(buffer) }
        }.get()
    }

    /// Extra bytes a value needs: 0 when it fits the 3-bit field, else the minimum 1...8.
    static func extendedLength(_ value: UInt64) -> Int {
        value < 8 ? 0 : (64 - value.leadingZeroBitCount + 7) / 8
    }

    private static func appendBigEndian(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for index in stride(from: bytes - 1, through: 0, by: -1) {
            out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))))
        }
    }

    private static func readBigEndian(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in start..<start + count { value = value << 8 | UInt64(bytes[index]) }
        return value
    }
}
