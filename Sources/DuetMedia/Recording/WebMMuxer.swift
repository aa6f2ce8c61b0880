/// Puts a recording's Opus packets and VP8 frames into one WebM file (Matroska's web profile:
/// the container browsers and ffmpeg play VP8 and Opus from), as a meeting's export writes it
/// (docs/recordings.md "Video").
///
/// Written as it goes: the Segment and each Cluster have the "unknown" size Matroska allows
/// for live streams, so nothing is patched afterwards. Blocks are SimpleBlocks with their time
/// in milliseconds from their Cluster's; a new Cluster starts at each video keyframe and at
/// least every `clusterMilliseconds`, so every block's offset fits its 16 bits. Blocks must be
/// given in time order across both tracks.
public struct WebMMuxer: Sendable {
    /// A video track's number is 1, the audio's 2.
    public static let videoTrack: UInt8 = 1
    public static let audioTrack: UInt8 = 2
    static let clusterMilliseconds: Int64 = 5_000

    private var clusterStart: Int64?

    public init() {}

    /// The file's start: the EBML header, the Segment's start, its Info (duration in ms, when
    /// known) and Tracks — a VP8 track when `video` gives the pictures' size, and an Opus
    /// track described by its `OpusHead` (pre-skip becomes the track's codec delay).
    public func header(video: (width: Int, height: Int)?, opus: OpusHead, durationMilliseconds: Double?) -> [UInt8] {
        var out = Self.element(
            0x1A45_DFA3,
            Self.uint(0x4286, 1) + Self.uint(0x42F7, 1) + Self.uint(0x42F2, 4) + Self.uint(0x42F3, 8) + Self.string(0x4282, "webm")
                + Self.uint(0x4287, 4) + Self.uint(0x4285, 2))
        out += Self.id(0x1853_8067) + Self.unknownSize
        var info = Self.uint(0x2A_D7B1, 1_000_000) + Self.string(0x4D80, "Duet") + Self.string(0x5741, "Duet")
        if let durationMilliseconds { info += Self.float(0x4489, durationMilliseconds) }
        out += Self.element(0x1549_A966, info)
        var tracks: [UInt8] = []
        if let video {
            tracks += Self.element(
                0xAE,
                Self.uint(0xD7, UInt64(Self.videoTrack)) + Self.uint(0x73C5, UInt64(Self.videoTrack)) + Self.uint(0x83, 1)
                    + Self.string(0x86, "V_VP8")
                    + Self.element(0xE0, Self.uint(0xB0, UInt64(video.width)) + Self.uint(0xBA, UInt64(video.height))))
        }
        let delay = UInt64(opus.preSkip) * 1_000_000_000 / UInt64(AudioFormat.sampleRate)
        tracks += Self.element(
            0xAE,
            Self.uint(0xD7, UInt64(Self.audioTrack)) + Self.uint(0x73C5, UInt64(Self.audioTrack)) + Self.uint(0x83, 2)
                + Self.string(0x86, "A_OPUS") + Self.element(0x63A2, opus.serialised()) + Self.uint(0x56AA, delay)
                + Self.uint(0x56BB, 80_000_000)
                + Self.element(0xE1, Self.float(0xB5, Double(AudioFormat.sampleRate)) + Self.uint(0x9F, UInt64(opus.channelCount))))
        out += Self.element(0x1654_AE6B, tracks)
        return out
    }

    /// One block of `track` at `milliseconds` from the start, opening a Cluster first when one
    /// is due. Audio blocks are all keyframes.
    public mutating func block(_ bytes: [UInt8], track: UInt8, milliseconds: Int64, keyframe: Bool) -> [UInt8] {
        var out: [UInt8] = []
        let time = max(milliseconds, clusterStart ?? 0)
        if clusterStart.map({ (track == Self.videoTrack && keyframe) || time - $0 >= Self.clusterMilliseconds }) ?? true {
            clusterStart = time
            out += Self.id(0x1F43_B675) + Self.unknownSize + Self.uint(0xE7, UInt64(time))
        }
        let offset = UInt16(truncatingIfNeeded: Int16(time - (clusterStart ?? time)))
        var block: [UInt8] = [0x80 | track, UInt8(offset >> 8), UInt8(offset & 0xFF), keyframe ? 0x80 : 0]
        block += bytes
        out += Self.element(0xA3, block)
        return out
    }

    // MARK: - EBML

    /// An 8-byte size whose bits are all ones: "unknown", ended by the next element of its level.
    static let unknownSize: [UInt8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]

    /// An element ID as written: its own marker bits are part of it.
    static func id(_ id: UInt32) -> [UInt8] {
        let length = id > 0xFF_FFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1
        return (0..<length).reversed().map { UInt8(truncatingIfNeeded: id >> (8 * $0)) }
    }

    /// A size as an EBML variable-length integer, in as few bytes as hold it (all ones in
    /// the value bits is reserved for "unknown", so one more byte then).
    static func size(_ value: Int) -> [UInt8] {
        var length = 1
        while length < 8, UInt64(value) >= (1 << (7 * UInt64(length))) - 1 { length += 1 }
        let marked = UInt64(value) | (1 << (7 * UInt64(length)))
        return (0..<length).reversed().map { UInt8(truncatingIfNeeded: marked >> (8 * UInt64($0))) }
    }

    static func element(_ id: UInt32, _ body: [UInt8]) -> [UInt8] { Self.id(id) + size(body.count) + body }

    static func uint(_ id: UInt32, _ value: UInt64) -> [UInt8] {
        let length = max(1, (64 - value.leadingZeroBitCount + 7) / 8)
        return element(id, (0..<length).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    static func string(_ id: UInt32, _ value: String) -> [UInt8] { element(id, Array(value.utf8)) }

    static func float(_ id: UInt32, _ value: Double) -> [UInt8] {
        let bits = value.bitPattern
        return element(id, (0..<8).reversed().map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64($0))) })
    }
}
