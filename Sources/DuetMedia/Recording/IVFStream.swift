/// The IVF container's bytes (libvpx's own, and ffmpeg's simplest for VP8): a 32-byte header,
/// then each frame behind a 12-byte header with its size and time. One place for the format:
/// `IVFWriter` saves a call's pictures with it, a meeting's recording keeps its picture track
/// in it (docs/recordings.md "Video"), and the WebM export reads that back.
public enum IVFStream {
    public static let headerCount = 32
    static let frameHeaderCount = 12

    /// The file header: "DKIF", version 0, header size 32, "VP80", the size, the time base
    /// (`unitsPerSecond` a second), the frame count and a reserved word, little-endian.
    public static func header(width: Int, height: Int, unitsPerSecond: Int, frames: Int) -> [UInt8] {
        var bytes = Array("DKIF".utf8)
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(UInt16(headerCount))
        bytes += Array("VP80".utf8)
        bytes.appendLittleEndian(UInt16(clamping: width))
        bytes.appendLittleEndian(UInt16(clamping: height))
        bytes.appendLittleEndian(UInt32(clamping: unitsPerSecond))
        bytes.appendLittleEndian(UInt32(1))
        bytes.appendLittleEndian(UInt32(clamping: frames))
        bytes.appendLittleEndian(UInt32(0))
        return bytes
    }

    /// One frame as it goes in the stream: its size, its time in the header's units, its bytes.
    public static func frame(_ bytes: [UInt8], time: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(frameHeaderCount + bytes.count)
        out.appendLittleEndian(UInt32(clamping: bytes.count))
        out.appendLittleEndian(time)
        return out + bytes
    }

    /// What a stream holds: the header's size and time base, and every whole frame. A stream
    /// cut short ends at its last whole frame.
    public struct Contents: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var unitsPerSecond: Int
        public var frames: [(time: UInt64, bytes: [UInt8])]

        public static func == (a: Contents, b: Contents) -> Bool {
            a.width == b.width && a.height == b.height && a.unitsPerSecond == b.unitsPerSecond
                && a.frames.elementsEqual(b.frames) { $0.time == $1.time && $0.bytes == $1.bytes }
        }
    }

    /// Reads a stream; nil when it does not start with an IVF header of VP8.
    public static func parse(_ bytes: [UInt8]) -> Contents? {
        guard bytes.count >= headerCount, bytes.starts(with: Array("DKIF".utf8)), Array(bytes[8..<12]) == Array("VP80".utf8) else {
            return nil
        }
        func little(_ at: Int, _ count: Int) -> UInt64 { (0..<count).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        var contents = Contents(
            width: Int(little(12, 2)), height: Int(little(14, 2)), unitsPerSecond: Int(little(16, 4)), frames: [])
        var offset = Int(little(6, 2))
        while offset + frameHeaderCount <= bytes.count {
            let size = Int(little(offset, 4))
            let start = offset + frameHeaderCount
            guard size <= bytes.count - start else { break }
            contents.frames.append((little(offset + 4, 8), Array(bytes[start..<(start + size)])))
            offset = start + size
        }
        return contents
    }
}
