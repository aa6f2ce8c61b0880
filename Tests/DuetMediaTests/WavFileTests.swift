import DuetMedia
import Foundation
import Testing

@Suite("WAV files")
struct WavFileTests {
    @Test func ffprobeSeesMono48kHz16BitPCM() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("alice.wav")
        var voice = SyntheticVoice(number: TestNumbers.alice)
        try WAVFile.write(voice.samples(frames: 50), to: url)
        let output = try ExternalTool.run(
            "ffprobe",
            [
                "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels,bits_per_sample,duration_ts",
                "-of", "default=noprint_wrappers=1", url.path
            ])
        let fields = Dictionary(
            uniqueKeysWithValues: output.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            })
        #expect(fields["codec_name"] == "pcm_s16le")
        #expect(fields["sample_rate"] == "48000")
        #expect(fields["channels"] == "1")
        #expect(fields["bits_per_sample"] == "16")
        #expect(fields["duration_ts"] == "48000")
    }

    @Test func ffmpegDecodesTheSamplesWeWrote() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("tone.wav")
        var tone = ToneSource(frequency: 440, amplitude: 0.3)
        let samples = tone.samples(frames: 10)
        try WAVFile.write(samples, to: url)
        let raw = directory.file("tone.raw")
        try ExternalTool.run("ffmpeg", ["-v", "error", "-y", "-i", url.path, "-f", "s16le", "-acodec", "pcm_s16le", raw.path])
        let data = try Data(contentsOf: raw)
        let decoded = data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)).map { Int16(littleEndian: $0) } }
        #expect(decoded == samples)
    }

    @Test func streamingWriterMatchesOneShotAndIsPlayableBeforeClose() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("stream.wav")
        var voice = SyntheticVoice(number: TestNumbers.bob)
        let frames = (0..<20).map { _ in voice.nextFrame() }
        let writer = try WAVWriter(url: url)
        for frame in frames.prefix(10) { try writer.append(frame) }
        try writer.flush()
        #expect(try WAVFile.read(Array(Data(contentsOf: url))) == Array(frames.prefix(10).joined()))
        for frame in frames.dropFirst(10) { try writer.append(frame) }
        try writer.close()
        let bytes = Array(try Data(contentsOf: url))
        #expect(bytes == WAVFile.bytes(for: Array(frames.joined())))
        #expect(bytes.count == 44 + 20 * 960 * 2)
    }

    @Test func readerReadsWhatFfmpegWritesAndRefusesOtherFormats() throws {
        let directory = try TemporaryDirectory()
        let source = directory.file("in.wav")
        var voice = SyntheticVoice(number: TestNumbers.carol)
        let samples = voice.samples(frames: 10)
        try WAVFile.write(samples, to: source)
        // ffmpeg adds a LIST chunk; the reader must skip it.
        let copy = directory.file("copy.wav")
        try ExternalTool.run("ffmpeg", ["-v", "error", "-y", "-i", source.path, "-c:a", "pcm_s16le", copy.path])
        #expect(try WAVFile.read(Array(Data(contentsOf: copy))) == samples)
        let stereo = directory.file("stereo.wav")
        try ExternalTool.run("ffmpeg", ["-v", "error", "-y", "-i", source.path, "-ac", "2", stereo.path])
        #expect(throws: WAVError.unsupportedFormat(tag: 1, channels: 2, sampleRate: 48_000, bits: 16)) {
            try WAVFile.read(Array(Data(contentsOf: stereo)))
        }
        #expect(throws: WAVError.notWAV) { try WAVFile.read(Array("OggS".utf8)) }
    }
}
