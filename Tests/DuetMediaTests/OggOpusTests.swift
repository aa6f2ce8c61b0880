import DuetMedia
import Foundation
import Testing

@Suite("Ogg Opus")
struct OggOpusTests {
    /// Writes a voice to Ogg Opus, 2 s exactly (100 frames plus the encoder's lookahead).
    static func voiceFile(number: String, frames: Int = 100) throws -> (bytes: [UInt8], packets: [[UInt8]], preSkip: Int) {
        let encoder = try OpusEncoder()
        var voice = SyntheticVoice(number: number)
        let totalFrames = frames + (encoder.lookahead + 959) / 960
        let packets = try (0..<totalFrames).map { _ in try encoder.encode(voice.nextFrame()) }
        let bytes = try OggOpusWriter.file(
            packets: packets, preSkip: encoder.lookahead, originalLength: frames * 960,
            tags: OpusTags(vendor: "Duet test", comments: ["TITLE=call with \(number)"]), serialNumber: 0x1234_5678)
        return (bytes, packets, encoder.lookahead)
    }

    @Test func opusdecPlaysOurFileAndTheVoiceIsHeard() throws {
        let directory = try TemporaryDirectory()
        let (bytes, _, _) = try Self.voiceFile(number: TestNumbers.bob)
        let opus = directory.file("bob.opus")
        try Data(bytes).write(to: opus)
        let raw = directory.file("bob.raw")
        try ExternalTool.run("opusdec", ["--quiet", "--rate", "48000", "--no-dither", opus.path, raw.path])
        let data = try Data(contentsOf: raw)
        let samples = data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)).map { Int16(littleEndian: $0) } }
        #expect(samples.count == 100 * 960, "opusdec must honour pre-skip and the end trim")
        let analysis = VoiceAnalyser(numbers: [TestNumbers.alice, TestNumbers.bob]).analyse(samples)
        #expect(analysis.speaker == VoiceSignature(number: TestNumbers.bob), "\(analysis)")

        let info = try ExternalTool.run("opusinfo", [opus.path])
        #expect(info.contains("Pre-skip: 312"))
        #expect(info.contains("Playback length: 0m:02.000s"), "\(info)")
        #expect(!info.lowercased().contains("warning"), "\(info)")
    }

    @Test func weReadWhatOpusencWrites() throws {
        let directory = try TemporaryDirectory()
        var voice = SyntheticVoice(number: TestNumbers.carol)
        let samples = voice.samples(frames: 75)
        let wav = directory.file("carol.wav")
        try WAVFile.write(samples, to: wav)
        let opus = directory.file("carol.opus")
        try ExternalTool.run("opusenc", ["--quiet", "--bitrate", "28", "--speech", wav.path, opus.path])

        let reader = try OggOpusReader(contentsOf: opus)
        #expect(reader.head.channelCount == 1)
        #expect(reader.head.inputSampleRate == 48_000)
        #expect(reader.tags.vendor.hasPrefix("libopus"))
        #expect(reader.playbackSamples == samples.count)
        #expect(reader.packets.count >= 75)
        let decoded = try reader.decodeAll()
        #expect(decoded.count == samples.count)
        let analysis = VoiceAnalyser(numbers: [TestNumbers.alice, TestNumbers.bob, TestNumbers.carol]).analyse(decoded)
        #expect(analysis.speaker == VoiceSignature(number: TestNumbers.carol), "\(analysis)")
    }

    @Test func ourFileReadsBackIdentically() throws {
        let (bytes, packets, preSkip) = try Self.voiceFile(number: TestNumbers.alice)
        let reader = try OggOpusReader(bytes: bytes)
        #expect(reader.head == OpusHead(preSkip: UInt16(preSkip)))
        #expect(reader.tags == OpusTags(vendor: "Duet test", comments: ["TITLE=call with \(TestNumbers.alice)"]))
        #expect(reader.packets == packets)
        #expect(reader.playbackSamples == 100 * 960)
        #expect(try reader.decodeAll().count == 100 * 960)
    }

    /// RFC 7845 §3 layout: OpusHead alone on a BOS page, OpusTags finishing its page, both at
    /// granule 0, audio pages with granules counting samples, EOS at length + pre-skip.
    @Test func pageLayoutFollowsRFC7845() throws {
        let (bytes, _, preSkip) = try Self.voiceFile(number: TestNumbers.alice)
        let pages = OggPageDump.pages(bytes)
        #expect(pages.count >= 4)
        #expect(pages[0].flags == 0x02 && pages[0].granule == 0 && pages[0].segments == [19])
        #expect(
            Array(bytes[28..<47]) == [0x4F, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64, 1, 1, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0, 0, 0],
            "OpusHead must match what opusenc and ffmpeg write for 48 kHz mono with pre-skip 312")
        #expect(pages[1].flags == 0x00 && pages[1].granule == 0)
        #expect(pages.map(\.sequence) == Array(0..<UInt32(pages.count)))
        #expect(pages.allSatisfy { $0.serial == 0x1234_5678 })
        #expect(pages[2].granule == 50 * 960, "a page holds one second")
        #expect(pages.last!.flags == 0x04)
        #expect(pages.last!.granule == Int64(100 * 960 + preSkip))
        #expect(pages.dropFirst().dropLast().allSatisfy { $0.flags & 0x04 == 0 })
    }

    @Test func lacingHandles255MultiplesAndPacketsSpanningPages() throws {
        // The Ogg layer does not look inside packets, so arbitrary bytes test its framing.
        var random = SeededRandom(seed: 77)
        let sizes = [1, 254, 255, 256, 510, 1275, 40_000, 60_000, 3]
        let packets = sizes.map { size in (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) } }
        let bytes = try OggOpusWriter.file(packets: packets, preSkip: 312, serialNumber: 1)
        let pages = OggPageDump.pages(bytes)
        #expect(pages.contains { $0.flags & 0x01 != 0 }, "a 60 000-byte packet must continue onto another page")
        let lacing = pages.dropFirst(2).flatMap(\.segments)
        // 254 → [254]; 255 → [255, 0] (a multiple of 255 ends with 0); 256 → [255, 1].
        #expect(Array(lacing.prefix(7)) == [1, 254, 255, 0, 255, 1, 255])
        #expect(pages.allSatisfy { $0.segments.count <= 255 })
        let reader = try OggOpusReader(bytes: bytes)
        #expect(reader.packets == packets)
        #expect(reader.finalGranulePosition == Int64(sizes.count * 960))
    }

    @Test func corruptionIsReportedWithWhereItHappened() throws {
        var (bytes, _, _) = try Self.voiceFile(number: TestNumbers.alice, frames: 10)
        let flipped = bytes.count - 10
        bytes[flipped] ^= 0x40
        let error = #expect(throws: OggOpusError.self) { try OggOpusReader(bytes: bytes) }
        guard case let .badChecksum(offset, _, _)? = error else {
            Issue.record("expected a checksum error, got \(String(describing: error))")
            return
        }
        #expect(offset < flipped)
        #expect(throws: OggOpusError.self) { try OggOpusReader(bytes: Array(bytes.prefix(100))) }
        #expect(throws: OggOpusError.missingCapturePattern(offset: 0)) { try OggOpusReader(bytes: WAVFile.bytes(for: [0, 1, 2])) }
    }

    @Test func writerRefusesEmptyPacketsAndUseAfterFinish() throws {
        var writer = OggOpusWriter(preSkip: 312, serialNumber: 5)
        #expect(throws: OggOpusError.emptyAudioPacket(index: 0)) { try writer.append([]) }
        let headers = try writer.append([0x78, 0x01])
        #expect(headers.count > 27 * 2, "the first append returns the header pages")
        _ = try writer.finish()
        #expect(throws: OggOpusError.finished) { try writer.append([0x78]) }
    }

    @Test func opusTagsLengthsAreCheckedBeforeUse() throws {
        var writer = OggOpusWriter(preSkip: 312, tags: OpusTags(vendor: "v", comments: ["A=1"]), serialNumber: 9)
        var bytes = try writer.append([0x78, 0x01])
        bytes += try writer.finish()
        // Rewrite the comment count (after "OpusTags", vendor length 1, "v") to a huge number
        // and fix up the page checksum so only the header parser can object.
        let pages = OggPageDump.pages(bytes)
        var tagsPage = Array(bytes[pages[1].offset..<pages[1].end])
        let countOffset = 27 + tagsPage[26].asInt + 8 + 4 + 1
        tagsPage.replaceSubrange(countOffset..<countOffset + 4, with: [0xFF, 0xFF, 0xFF, 0x7F])
        tagsPage = OggPageDump.resealed(tagsPage)
        bytes.replaceSubrange(pages[1].offset..<pages[1].end, with: tagsPage)
        let error = #expect(throws: OggOpusError.self) { try OggOpusReader(bytes: bytes) }
        guard case let .malformedHeader(packet, reason)? = error else {
            Issue.record("expected the OpusTags parser to refuse, got \(String(describing: error))")
            return
        }
        #expect(packet == "OpusTags")
        #expect(reason.contains("cannot fit"))
    }
}

/// An independent, minimal page walker so layout tests do not trust the code under test.
enum OggPageDump {
    struct Page {
        var offset: Int
        var end: Int
        var flags: UInt8
        var granule: Int64
        var serial: UInt32
        var sequence: UInt32
        var segments: [UInt8]
    }

    static func pages(_ bytes: [UInt8]) -> [Page] {
        var pages: [Page] = []
        var offset = 0
        func le(_ at: Int, _ count: Int) -> UInt64 { (0..<count).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
        while offset + 27 <= bytes.count {
            let count = Int(bytes[offset + 26])
            let segments = Array(bytes[offset + 27..<offset + 27 + count])
            let end = offset + 27 + count + segments.reduce(0) { $0 + Int($1) }
            pages.append(
                Page(
                    offset: offset, end: end, flags: bytes[offset + 5], granule: Int64(bitPattern: le(offset + 6, 8)),
                    serial: UInt32(le(offset + 14, 4)), sequence: UInt32(le(offset + 18, 4)), segments: segments))
            offset = end
        }
        return pages
    }

    /// Recomputes a page's CRC (bitwise, straight from RFC 3533's definition).
    static func resealed(_ page: [UInt8]) -> [UInt8] {
        var page = page
        page.replaceSubrange(22..<26, with: [0, 0, 0, 0])
        var crc: UInt32 = 0
        for byte in page {
            crc ^= UInt32(byte) << 24
            for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        }
        page.replaceSubrange(22..<26, with: (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) })
        return page
    }
}

extension UInt8 {
    var asInt: Int { Int(self) }
}
