import DuetFuzzing
import Testing

@testable import DuetMedia

/// `OggOpusReader` reads recordings back for export and imports files other tools made, so a
/// damaged or hostile file is its ordinary input. Mutations of streams the real writer makes
/// (real Opus, packets spanning lacing values and pages, tags), with page checksums repaired
/// in half of them to reach the Opus headers and packets, must read or fail with
/// `OggOpusError`; what reads must also decode, or fail typed, without trapping.
@Suite("Ogg Opus fuzz")
struct OggOpusFuzzTests {
    static func samples() throws -> [[UInt8]] {
        let encoder = try OpusEncoder()
        var voice = ToneSource(frequency: 440)
        let opus = try (0..<8).map { _ in try encoder.encode(voice.nextFrame()) }
        var writer = OggOpusWriter(
            preSkip: encoder.lookahead, tags: OpusTags(vendor: "fuzz", comments: ["TITLE=tone", "A="]),
            serialNumber: 7, samplesPerPage: 1920)
        var real: [UInt8] = []
        for packet in opus { real += try writer.append(packet) }
        real += try writer.finish(originalLength: 7000)
        let laced = try OggOpusWriter.file(
            packets: [254, 255, 510, 600, 1].map { Array(repeating: 0xFC, count: $0) }, preSkip: 312, serialNumber: 9)
        let tiny = try OggOpusWriter.file(packets: [opus[0]], preSkip: 0, serialNumber: 1)
        return [real, laced, tiny]
    }

    @Test func validStreamsReadBackTheirPackets() throws {
        let samples = try Self.samples()
        #expect(try OggOpusReader(bytes: samples[1]).packets == [254, 255, 510, 600, 1].map { Array(repeating: 0xFC, count: $0) })
        let real = try OggOpusReader(bytes: samples[0])
        #expect(real.packets.count == 8 && real.tags.comments == ["TITLE=tone", "A="])
        #expect(try real.decodeAll().count == 7000)
    }

    @Test func mutatedStreamsReadOrFailTyped() throws {
        let report = FuzzTarget("Ogg Opus reader", defaultIterations: 1500).run(samples: try Self.samples(), fixup: Self.resealPages) {
            input, _ in
            let reader: OggOpusReader
            do { reader = try OggOpusReader(bytes: input) } catch { return .rejected }
            try ensure(!reader.packets.contains(where: \.isEmpty), "an empty audio packet was read")
            try ensure(reader.playbackSamples >= 0, "negative playback length")
            if reader.head.channelCount == 1 && reader.packets.count <= 64 {
                do {
                    let pcm = try reader.decodeAll()
                    try ensure(pcm.count <= reader.playbackSamples, "decoded \(pcm.count) samples of \(reader.playbackSamples)")
                } catch is OpusError {
                } catch is OggOpusError {
                }
            }
            return .accepted
        }
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    /// Found by fuzzing: a last page whose granule position is just above Int64.min made
    /// `playbackSamples` (granule minus pre-skip) overflow and trap.
    @Test func aNegativeGranulePositionIsRefused() throws {
        var bytes = try Self.samples()[1]
        let last = try #require(Self.pageOffsets(bytes).last)
        bytes.replaceSubrange(last + 6..<last + 14, with: (Int64.min + 1).littleEndianBytes)
        #expect(throws: OggOpusError.invalidGranulePosition(page: 2, granule: .min + 1)) {
            try OggOpusReader(bytes: Self.resealPages(bytes))
        }
        bytes.replaceSubrange(last + 6..<last + 14, with: Int64(-1).littleEndianBytes)
        #expect(try OggOpusReader(bytes: Self.resealPages(bytes)).playbackSamples == 0)
    }

    /// Where each whole page starts.
    static func pageOffsets(_ bytes: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 0
        while offset + OggPage.headerLength <= bytes.count {
            let segments = Int(bytes[offset + 26])
            guard offset + OggPage.headerLength + segments <= bytes.count else { break }
            let end =
                offset + OggPage.headerLength + segments
                + bytes[offset + OggPage.headerLength..<offset + OggPage.headerLength + segments].reduce(0) { $0 + Int($1) }
            guard end <= bytes.count else { break }
            offsets.append(offset)
            offset = end
        }
        return offsets
    }

    /// Recomputes the checksum of every whole page, so mutations inside pages reach the
    /// packet and header parsers instead of stopping at the CRC.
    static func resealPages(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        var offset = 0
        while offset + OggPage.headerLength <= bytes.count {
            let segments = Int(bytes[offset + 26])
            guard offset + OggPage.headerLength + segments <= bytes.count else { break }
            let body = bytes[offset + OggPage.headerLength..<offset + OggPage.headerLength + segments].reduce(0) { $0 + Int($1) }
            let end = offset + OggPage.headerLength + segments + body
            guard end <= bytes.count else { break }
            bytes.replaceSubrange(offset..<end, with: OggPageDump.resealed(Array(bytes[offset..<end])))
            offset = end
        }
        return bytes
    }
}
