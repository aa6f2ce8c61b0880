import DuetWire
import Foundation
import Testing

@testable import DuetMedia

/// The synthetic camera, its tag and VP8 through real libvpx (docs/video.md): who and which
/// frame survive encoding, RTP packetizing under a 1,200-byte MTU and decoding; keyframes come
/// on request; the bitrate follows the rate control; ffmpeg decodes what Duet encodes.
@Suite("Video: camera, tag and VP8")
struct VideoTests {
    @Test func aTagReadsBackFromARawFrameAndADamagedOneDoesNot() {
        let camera = SyntheticCamera(person: "Alice Liddell")
        var frame = camera.frame(1234, stampMilliseconds: 70_000)
        #expect(
            VideoTag.read(from: frame) == VideoTag(person: VideoTag.code(for: "Alice Liddell"), frame: 1234, stamp: UInt16(70_000 % 4096)))
        // One cell turned over: the CRC refuses the read instead of naming a wrong frame.
        let layout = VideoTag.layout(width: frame.width, height: frame.height)
        let flipped: VideoColour = frame.meanLuma(x: 2, y: layout.top + 2, width: 2, height: 2) > 128 ? .black : .white
        frame.fill(x: 0, y: layout.top, width: layout.cellWidth, height: layout.cellHeight, colour: flipped)
        #expect(VideoTag.read(from: frame) == nil)
    }

    @Test func eachPersonHasTheirOwnSceneAndItMovesEveryFrame() {
        let alice = SyntheticCamera(person: "+15557001"), bob = SyntheticCamera(person: "+15557002")
        #expect(alice.code != bob.code)
        #expect(alice.frame(5) != bob.frame(5))
        #expect(alice.frame(5).y != alice.frame(6).y)
        #expect(alice.frame(5) == SyntheticCamera(person: "+15557001").frame(5))
        #expect(SyntheticCamera.initials(of: "+15557001") == "01")
        #expect(SyntheticCamera.initials(of: "alice liddell") == "AL")
    }

    @Test func aPictureTurnsBackIntoTheRGBItWasPaintedWith() {
        let colours = [(200, 40, 90), (0, 0, 0), (255, 255, 255), (30, 180, 250)]
        var frame = VideoFrame(width: 8, height: 2)
        for (index, colour) in colours.enumerated() {
            frame.fill(x: index * 2, y: 0, width: 2, height: 2, colour: VideoColour(red: colour.0, green: colour.1, blue: colour.2))
        }
        let rgb = frame.rgb()
        #expect(rgb.count == 8 * 2 * 3)
        for (index, colour) in colours.enumerated() {
            let at = (8 + index * 2 + 1) * 3  // the second row, the block's right pixel
            for (got, want) in zip(rgb[at..<(at + 3)], [colour.0, colour.1, colour.2]) { #expect(abs(Int(got) - want) <= 3) }
        }
    }

    @Test func whoAndWhichFrameSurviveVP8AndRTPPacketsUnderTheMTU() throws {
        let camera = SyntheticCamera(person: "+15557001")
        let encoder = try VP8Encoder(configuration: .init(width: 160, height: 120, framesPerSecond: 15, bitrate: 150_000))
        let decoder = try VP8Decoder()
        var assembler = VP8FrameAssembler()
        var analyser = VideoAnalyser(people: ["+15557001", "+15557002"])
        var sequence: UInt16 = 65_530  // wraps on the way
        var keyframes: [Int] = []
        for index in 0..<45 {
            if index == 30 { encoder.requestKeyframe() }
            for encoded in try encoder.encode(camera.frame(index, stampMilliseconds: index * 66)) {
                if encoded.isKeyframe { keyframes.append(index) }
                let payloads = VP8Payload.packetize(encoded.bytes, pictureID: UInt16(index), maximumPayload: 1200 - 12)
                #expect(payloads.allSatisfy { $0.count <= 1188 })
                var rebuilt: [VP8FrameAssembler.Frame] = []
                for (position, payload) in payloads.enumerated() {
                    rebuilt += try assembler.add(
                        sequence: sequence, timestamp: encoded.timestamp, marker: position == payloads.count - 1, payload: payload)
                    sequence &+= 1
                }
                #expect(rebuilt.count == 1)
                let frame = try #require(rebuilt.first)
                #expect(frame.bytes == encoded.bytes && frame.isKeyframe == encoded.isKeyframe && frame.pictureID == UInt16(index))
                let picture = try #require(try decoder.decode(frame.bytes))
                #expect(VideoTag.read(from: picture)?.frame == UInt16(index), "frame \(index) did not read back")
                analyser.observe(picture, at: Double(index) / 15, clockMilliseconds: index * 66 + 5)
            }
        }
        #expect(keyframes == [0, 30])
        let seen = analyser.summary(at: 44.0 / 15)
        #expect(seen.person == "+15557001")
        #expect(seen.framesSeen == 45 && seen.unreadable == 0 && seen.freezes == 0)
        #expect(seen.framesPerSecond == 15)
        #expect(seen.width == 160 && seen.height == 120)
        #expect(seen.delayMilliseconds == 5)
        #expect(assembler.framesDropped == 0)
    }

    @Test func theRateControlFollowsTheBitrateItIsGiven() throws {
        /// Bytes spent on the second of two seconds, and how many of its pictures' tags read.
        func spent(at bitrate: Int) throws -> (bytes: Int, readable: Int) {
            let camera = SyntheticCamera(person: "Bob")
            let encoder = try VP8Encoder(configuration: .init(bitrate: bitrate))
            let decoder = try VP8Decoder()
            var total = 0, readable = 0
            for index in 0..<60 {
                for frame in try encoder.encode(camera.frame(index)) {
                    let picture = try decoder.decode(frame.bytes)
                    guard index >= 30 else { continue }
                    total += frame.bytes.count
                    if let picture, VideoTag.read(from: picture)?.frame == UInt16(index) { readable += 1 }
                }
            }
            return (total, readable)
        }
        // The scene is simple: at 300 kbit/s VP8 spends what it needs (undershoot 100 %), about
        // 70; held to 30 it must spend less, and the tag must still read.
        let low = try spent(at: 30_000), high = try spent(at: 300_000)
        // Two seconds at 30 kbit/s is 7.5 kB; CBR keeps within the overshoot and a margin.
        #expect(low.bytes < 7_500 * 3 / 2, "\(low.bytes) bytes at 30 kbit/s")
        #expect(high.bytes > low.bytes * 3 / 2, "\(high.bytes) bytes at 300 kbit/s against \(low.bytes) at 30")
        #expect(low.readable == 30 && high.readable == 30)
        let encoder = try VP8Encoder()
        try encoder.setBitrate(90_000)
        #expect(encoder.bitrate == 90_000)
        #expect(throws: VideoCodecError.invalidSetting(name: "bitrate", value: 10)) { try encoder.setBitrate(10) }
        #expect(throws: VideoCodecError.self) { try encoder.encode(VideoFrame(width: 96, height: 72)) }
    }

    /// L1T3 (group calls): layers 0 2 1 2 after the keyframe; a receiver sent only layer 0, or
    /// layers 0 and 1, decodes every frame it gets into the right picture (each frame's tag
    /// reads back its own number), so the SFU may drop the upper layers for it.
    @Test(arguments: [UInt8(0), 1, 2])
    func theUpperTemporalLayersCanBeDroppedAndTheRestStillDecodes(_ highest: UInt8) throws {
        let encoder = try VP8Encoder(configuration: .init(temporalLayers: true))
        let camera = SyntheticCamera(person: "Erin")
        let decoder = try VP8Decoder()
        var layers: [UInt8] = []
        var shown: [Int] = []
        for index in 0..<24 {
            for frame in try encoder.encode(camera.frame(index)) {
                layers.append(frame.temporalLayer)
                #expect(frame.discardable == (frame.temporalLayer == 2) && frame.layerSync == (frame.temporalLayer == 1))
                guard frame.temporalLayer <= highest else { continue }
                let picture = try #require(try decoder.decode(frame.bytes))
                #expect(VideoTag.read(from: picture)?.frame == UInt16(index), "frame \(index) decoded wrong")
                shown.append(index)
            }
        }
        #expect(layers == Array(repeating: [0, 2, 1, 2], count: 6).flatMap { $0 })
        #expect(shown.count == [6, 12, 24][Int(highest)])
    }

    @Test func garbageGivenToTheDecoderIsAnErrorAndTheNextKeyframeStillDecodes() throws {
        let decoder = try VP8Decoder()
        #expect(throws: VideoCodecError.emptyFrame) { try decoder.decode([]) }
        #expect(throws: VideoCodecError.self) { try decoder.decode([UInt8](repeating: 0xA5, count: 300)) }
        let encoder = try VP8Encoder()
        let keyframe = try #require(try encoder.encode(SyntheticCamera(person: "Carol").frame(0)).first)
        #expect(try decoder.decode(keyframe.bytes).map { VideoTag.read(from: $0)?.frame } == 0)
    }

    /// A keyframe costs a few hundred bytes whatever size it declares, and libvpx allocates for
    /// that size: one from a peer declaring 12000×12000 is refused before it reaches libvpx.
    @Test func aKeyframeDeclaringAHugePictureIsRefusedBeforeDecoding() throws {
        var keyframe = try #require(try VP8Encoder().encode(SyntheticCamera(person: "Eve").frame(0)).first).bytes
        #expect(VP8Payload.keyframeSize(keyframe[...])! == (160, 120))
        keyframe.replaceSubrange(6..<10, with: [0xE0, 0x2E, 0xE0, 0x2E])  // 12000 × 12000
        let decoder = try VP8Decoder()
        #expect(throws: VideoCodecError.pictureTooLarge(width: 12_000, height: 12_000)) { try decoder.decode(keyframe) }
    }

    /// Standard VP8: ffmpeg decodes an IVF file of Duet's frames (`IVFWriter`, as
    /// `--save-video` writes them), every one of them, at the pace of their RTP time.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ffprobe")))
    func ffprobeDecodesDuetsVP8() throws {
        let encoder = try VP8Encoder()
        let camera = SyntheticCamera(person: "Dave")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("duet-vp8-\(UUID().uuidString).ivf")
        defer { try? FileManager.default.removeItem(at: file) }
        let writer = try IVFWriter(url: file, width: 160, height: 120)
        // RTP time from near its wrap: the file's time keeps counting across it.
        for index in 0..<30 {
            for frame in try encoder.encode(camera.frame(index)) {
                try writer.append(frame.bytes, rtpTimestamp: UInt32.max - 30_000 &+ UInt32(index * 6_000))
            }
        }
        try writer.close()
        let text = try Self.probe(file, "stream=codec_name,width,height,nb_read_frames")
        #expect(text == "vp8,160,120,30", "\(text)")
        // The last frame 29 frame times after the first, across RTP time's wrap.
        let times = try Self.probe(file, "packet=pts_time").split(separator: "\n")
        #expect(times.first == "0.000000" && times.last == "1.933333", "\(times)")
    }

    /// What ffprobe says of `file`'s entries (CSV, no keys).
    static func probe(_ file: URL, _ entries: String) throws -> String {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        probe.arguments = ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", entries, "-of", "csv=p=0", file.path]
        let output = Pipe()
        probe.standardOutput = output
        try probe.run()
        probe.waitUntilExit()
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whatever bytes the network's frames hold, the file reads back frame for frame (sizes
    /// and times), the header counts them even before `close`, and a file that cannot be made
    /// is a clear error.
    @Test func anIVFFileHoldsExactlyTheFramesGiven() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("duet-ivf-\(UUID().uuidString).ivf")
        defer { try? FileManager.default.removeItem(at: file) }
        let writer = try IVFWriter(url: file, width: 96, height: 72)
        var random = SystemRandomNumberGenerator()
        var frames: [[UInt8]] = [[]]
        for _ in 0..<40 {
            frames.append((0..<Int.random(in: 0..<3_000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
        }
        for (index, frame) in frames.enumerated() { try writer.append(frame, rtpTimestamp: UInt32(index * 3_000)) }
        try writer.flush()
        let bytes = try [UInt8](Data(contentsOf: file))
        func le(_ at: Int, _ count: Int) -> Int { (0..<count).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        #expect(Array(bytes[0..<4]) == Array("DKIF".utf8) && Array(bytes[8..<12]) == Array("VP80".utf8))
        #expect(le(12, 2) == 96 && le(14, 2) == 72 && le(16, 4) == 90_000 && le(20, 4) == 1 && le(24, 4) == frames.count)
        var offset = 32
        for (index, frame) in frames.enumerated() {
            #expect(le(offset, 4) == frame.count && le(offset + 4, 8) == index * 3_000)
            #expect(Array(bytes[(offset + 12)..<(offset + 12 + frame.count)]) == frame)
            offset += 12 + frame.count
        }
        #expect(offset == bytes.count)
        // A frame stamped earlier than the last keeps the last time; then time goes on.
        try writer.append([1], rtpTimestamp: 0)
        try writer.append([2], rtpTimestamp: UInt32(frames.count * 3_000))
        try writer.flush()
        let tail = Array(try [UInt8](Data(contentsOf: file)).suffix(26))
        func time(_ at: Int) -> Int { tail[at..<(at + 8)].reversed().reduce(0) { $0 << 8 | Int($1) } }
        #expect(tail[12] == 1 && tail[25] == 2)
        #expect(time(4) == (frames.count - 1) * 3_000 && time(17) == frames.count * 3_000, "\(tail)")
        try writer.close()
        let nowhere = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/saved.ivf")
        #expect(throws: CocoaError.self) { try IVFWriter(url: nowhere, width: 96, height: 72) }
    }
}
