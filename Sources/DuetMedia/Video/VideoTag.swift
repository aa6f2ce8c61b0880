/// What the synthetic camera writes into every frame so a receiver can tell who is shown,
/// which frame it is and, on one machine, when it was captured: 48 bits as a strip of black
/// and white cells across the bottom of the picture (3 rows of 16), large enough to survive
/// VP8 at a low bitrate. A CRC-8 over the rest tells a clean read from a damaged one.
public struct VideoTag: Sendable, Equatable {
    /// 12 bits naming the person (`code(for:)`).
    public var person: UInt16
    /// The frame's number, wrapping at 65,536.
    public var frame: UInt16
    /// The capture time in milliseconds, modulo 4,096 (`VideoAnalyser` turns it into a delay).
    public var stamp: UInt16

    static let columns = 16
    static let rows = 3

    public init(person: UInt16, frame: UInt16, stamp: UInt16) {
        self.person = person & 0x0FFF
        self.frame = frame
        self.stamp = stamp & 0x0FFF
    }

    /// A name's 12-bit code (FNV-1a, folded): what the tag carries instead of the name.
    public static func code(for name: String) -> UInt16 {
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return UInt16((hash ^ (hash >> 12) ^ (hash >> 24)) & 0x0FFF)
    }

    /// The strip's cell size and top row for a frame size.
    static func layout(width: Int, height: Int) -> (cellWidth: Int, cellHeight: Int, top: Int) {
        let cellWidth = width / columns, cellHeight = max(4, height / 15)
        return (cellWidth, cellHeight, height - rows * cellHeight)
    }

    /// The 48 bits, most significant first: person, frame, stamp, CRC-8 of the 40 before it.
    var bits: [Bool] {
        let payload = UInt64(person) << 28 | UInt64(frame) << 12 | UInt64(stamp)
        let word = payload << 8 | UInt64(Self.crc8(payload))
        return (0..<48).map { word >> (47 - UInt64($0)) & 1 == 1 }
    }

    /// Paints the strip.
    public func draw(into frame: inout VideoFrame) {
        let (cellWidth, cellHeight, top) = Self.layout(width: frame.width, height: frame.height)
        for (index, bit) in bits.enumerated() {
            let column = index % Self.columns, row = index / Self.columns
            frame.fill(
                x: column * cellWidth, y: top + row * cellHeight, width: cellWidth, height: cellHeight, colour: bit ? .white : .black)
        }
    }

    /// Reads the strip back from each cell's middle; nil when the CRC disagrees (a damaged or
    /// foreign picture).
    public static func read(from frame: VideoFrame) -> VideoTag? {
        let (cellWidth, cellHeight, top) = layout(width: frame.width, height: frame.height)
        guard cellWidth >= 4, top >= 0 else { return nil }
        var word: UInt64 = 0
        for index in 0..<(columns * rows) {
            let column = index % columns, row = index / columns
            let mean = frame.meanLuma(
                x: column * cellWidth + cellWidth / 4, y: top + row * cellHeight + cellHeight / 4, width: cellWidth / 2,
                height: cellHeight / 2)
            word = word << 1 | (mean >= 126 ? 1 : 0)
        }
        let payload = word >> 8
        guard UInt8(word & 0xFF) == crc8(payload) else { return nil }
        return VideoTag(person: UInt16(payload >> 28 & 0x0FFF), frame: UInt16(payload >> 12 & 0xFFFF), stamp: UInt16(payload & 0x0FFF))
    }

    /// CRC-8 (polynomial 0x07) over the 40-bit payload, five bytes most significant first.
    static func crc8(_ payload: UInt64) -> UInt8 {
        var crc: UInt8 = 0
        for shift in stride(from: 32, through: 0, by: -8) {
            crc ^= UInt8(payload >> UInt64(shift) & 0xFF)
            for _ in 0..<8 { crc = crc & 0x80 != 0 ? crc << 1 ^ 0x07 : crc << 1 }
        }
        return crc
    }
}
