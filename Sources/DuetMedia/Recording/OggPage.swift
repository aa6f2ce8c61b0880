/// One Ogg page (RFC 3533 §6): the unit an Ogg file is cut into. Packets are split across
/// pages by lacing values, so a packet's length is never stored anywhere else.
struct OggPage: Equatable {
    struct Flags: OptionSet, Equatable {
        let rawValue: UInt8
        /// The first segment continues a packet from the previous page.
        static let continued = Flags(rawValue: 0x01)
        static let beginningOfStream = Flags(rawValue: 0x02)
        static let endOfStream = Flags(rawValue: 0x04)
    }

    static let capturePattern: [UInt8] = Array("OggS".utf8)
    static let headerLength = 27
    static let maximumSegments = 255
    /// Granule position meaning "no packet finishes on this page".
    static let noGranule: Int64 = -1

    var flags: Flags
    var granulePosition: Int64
    var serialNumber: UInt32
    var sequenceNumber: UInt32
    var lacing: [UInt8]
    var body: [UInt8]

    /// The page as stored, checksum included.
    func serialised() -> [UInt8] {
        var bytes = Self.capturePattern
        bytes.append(0)  // stream structure version
        bytes.append(flags.rawValue)
        bytes.appendLittleEndian(UInt64(bitPattern: granulePosition))
        bytes.appendLittleEndian(serialNumber)
        bytes.appendLittleEndian(sequenceNumber)
        bytes.appendLittleEndian(UInt32(0))  // checksum, filled below
        bytes.append(UInt8(lacing.count))
        bytes += lacing
        bytes += body
        let crc = OggCRC.checksum(bytes)
        bytes.replaceSubrange(22..<26, with: crc.littleEndianBytes)
        return bytes
    }

    /// Parses the page at `offset` and returns it with the offset just past it.
    static func parse(_ data: [UInt8], at offset: Int) throws(OggOpusError) -> (page: OggPage, next: Int) {
        guard data.count - offset >= headerLength else { throw .truncated(offset: offset, what: "page header") }
        guard Array(data[offset..<offset + 4]) == capturePattern else { throw .missingCapturePattern(offset: offset) }
        guard data[offset + 4] == 0 else { throw .unsupportedOggVersion(data[offset + 4]) }
        let segmentCount = Int(data[offset + 26])
        let lacingEnd = offset + headerLength + segmentCount
        guard data.count >= lacingEnd else { throw .truncated(offset: offset, what: "segment table") }
        let lacing = Array(data[offset + headerLength..<lacingEnd])
        let bodyEnd = lacingEnd + lacing.reduce(0) { $0 + Int($1) }
        guard data.count >= bodyEnd else { throw .truncated(offset: offset, what: "page body") }

        let stored = data.readLittleEndian(UInt32.self, at: offset + 22)
        var zeroed = Array(data[offset..<bodyEnd])
        zeroed.replaceSubrange(22..<26, with: [0, 0, 0, 0])
        let computed = OggCRC.checksum(zeroed)
        guard stored == computed else { throw .badChecksum(offset: offset, stored: stored, computed: computed) }

        let page = OggPage(
            flags: Flags(rawValue: data[offset + 5]),
            granulePosition: Int64(bitPattern: data.readLittleEndian(UInt64.self, at: offset + 6)),
            serialNumber: data.readLittleEndian(UInt32.self, at: offset + 14),
            sequenceNumber: data.readLittleEndian(UInt32.self, at: offset + 18),
            lacing: lacing,
            body: Array(data[lacingEnd..<bodyEnd]))
        return (page, bodyEnd)
    }

    /// Lacing values for a packet: 255s then a final value below 255 (0 if the length is a
    /// multiple of 255), which is what marks the packet's end.
    static func lacing(forPacketLength length: Int) -> [UInt8] {
        [UInt8](repeating: 255, count: length / 255) + [UInt8(length % 255)]
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        self += value.littleEndianBytes
    }

    /// Caller checks bounds.
    func readLittleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size {
            value |= T(truncatingIfNeeded: self[offset + i]) << (8 * i)
        }
        return value
    }
}

extension FixedWidthInteger {
    var littleEndianBytes: [UInt8] {
        (0..<MemoryLayout<Self>.size).map { UInt8(truncatingIfNeeded: self >> (8 * $0)) }
    }
}
