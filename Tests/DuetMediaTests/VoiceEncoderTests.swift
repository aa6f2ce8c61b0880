import DuetMedia
import Testing

/// `VoiceEncoder`: live encoding is the plain voice → Opus path every call used before it; the
/// replayed voice is the same packets, sent round and round, and still recognisable across the
/// seam where the replay starts again; mute sends silence in both modes.
@Suite("Voice encoder")
struct VoiceEncoderTests {
    static func frames(_ encoder: inout VoiceEncoder, _ count: Int, muted: Bool = false) throws -> [[UInt8]] {
        try (0..<count).map { _ in try encoder.nextFrame(muted: muted) }
    }

    static func decode(_ packets: [[UInt8]]) throws -> [Int16] {
        let decoder = try OpusDecoder()
        return try packets.flatMap { try decoder.decode($0) }
    }

    @Test func liveEncodingIsTheVoiceThroughOneEncoder() throws {
        var live = try VoiceEncoder(number: TestNumbers.alice, complexity: 5)
        let expected = try VoicePipeline.packets(
            number: TestNumbers.alice, frames: 60, encoder: OpusEncoder(configuration: .init(complexity: 5)))
        #expect(try Self.frames(&live, 60) == expected)
    }

    @Test func theReplayIsTheVoicesFirstSecondsOverAndOver() throws {
        var replayed = try VoiceEncoder(number: TestNumbers.bob, complexity: 0, mode: .replayed)
        let span = VoiceEncoder.replayedFrames
        let sent = try Self.frames(&replayed, 2 * span + 10)
        let firstSeconds = try VoicePipeline.packets(
            number: TestNumbers.bob, frames: span, encoder: OpusEncoder(configuration: .init(complexity: 0)))
        #expect(Array(sent[0..<span]) == firstSeconds)
        #expect(Array(sent[span..<2 * span]) == firstSeconds)
        #expect(Array(sent[(2 * span)...]) == Array(firstSeconds.prefix(10)))
    }

    /// Every second a receiver analyses names the voice, the seconds across the seam included.
    @Test func everySecondOfTheReplayIsRecognised() throws {
        var replayed = try VoiceEncoder(number: TestNumbers.alice, complexity: 0, mode: .replayed)
        let audio = try Self.decode(try Self.frames(&replayed, 3 * VoiceEncoder.replayedFrames))
        let analyser = VoiceAnalyser(numbers: [TestNumbers.alice, TestNumbers.bob])
        let second = AudioFormat.sampleRate
        // Windows start every half second, so some straddle each seam (every 3 s).
        for start in stride(from: 0, through: audio.count - second, by: second / 2) {
            let analysis = analyser.analyse(Array(audio[start..<start + second]))
            #expect(analysis.speaker == VoiceSignature(number: TestNumbers.alice), "at \(start / (second / 2)) half-seconds: \(analysis)")
        }
    }

    @Test(arguments: [VoiceEncoder.Mode.live, .replayed])
    func mutingSendsSilenceAndTheVoiceKeepsItsPlace(mode: VoiceEncoder.Mode) throws {
        var muted = try VoiceEncoder(number: TestNumbers.carol, complexity: 0, mode: mode)
        var unmuted = try VoiceEncoder(number: TestNumbers.carol, complexity: 0, mode: mode)
        let quiet = try Self.decode(try Self.frames(&muted, 50, muted: true))
        let analysis = VoiceAnalyser(numbers: [TestNumbers.carol]).analyse(Array(quiet.suffix(AudioFormat.sampleRate / 2)))
        #expect(analysis.isSilent, "\(analysis)")
        _ = try Self.frames(&unmuted, 50)
        // After the mute both are at the same place in the voice (exactly so for the replay,
        // whose packets do not depend on the encoder's state).
        let after = try Self.frames(&muted, 50), reference = try Self.frames(&unmuted, 50)
        if mode == .replayed { #expect(after == reference) }
        let heard = VoiceAnalyser(numbers: [TestNumbers.carol, TestNumbers.alice]).analyse(try Self.decode(after))
        #expect(heard.speaker == VoiceSignature(number: TestNumbers.carol), "\(heard)")
    }
}
