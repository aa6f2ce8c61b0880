import DuetMedia
import Testing

@Suite("Analyser")
struct AnalyserTests {
    let analyser = VoiceAnalyser(numbers: [TestNumbers.alice, TestNumbers.bob, TestNumbers.carol])

    @Test(arguments: [TestNumbers.alice, TestNumbers.bob, TestNumbers.carol])
    func namesTheVoiceInCleanAudio(number: String) {
        var voice = SyntheticVoice(number: number)
        let analysis = analyser.analyse(voice.samples(frames: 100))
        #expect(analysis.speaker == VoiceSignature(number: number), "\(analysis)")
        #expect(!analysis.isSilent)
        let pitch = try! #require(analysis.pitch)
        #expect(abs(pitch / VoiceSignature(number: number).pitch - 1) < 0.01)
    }

    @Test func silenceIsSilentAndNobody() {
        var silence = SilenceSource()
        let analysis = analyser.analyse(silence.samples(frames: 50))
        #expect(analysis.isSilent)
        #expect(analysis.speaker == nil)
        #expect(analysis.level == -120)
    }

    @Test func quietHissIsSilence() {
        var hiss = NoiseSource(seed: 3, amplitude: 0.0005)
        #expect(analyser.analyse(hiss.samples(frames: 50)).isSilent)
    }

    @Test func noiseAndSweepsAreNobody() {
        var noise = NoiseSource(seed: 11)
        let noiseAnalysis = analyser.analyse(noise.samples(frames: 100))
        #expect(!noiseAnalysis.isSilent)
        #expect(noiseAnalysis.speaker == nil, "\(noiseAnalysis)")
        var sweep = SweepSource(from: 50, to: 8000, period: 2)
        let sweepAnalysis = analyser.analyse(sweep.samples(frames: 100))
        #expect(sweepAnalysis.speaker == nil, "\(sweepAnalysis)")
    }

    @Test func aVoiceNobodyExpectedIsNotNamed() {
        var stranger = SyntheticVoice(number: TestNumbers.carol)
        let analysis = VoiceAnalyser(numbers: [TestNumbers.alice, TestNumbers.bob]).analyse(stranger.samples(frames: 100))
        #expect(analysis.speaker == nil, "\(analysis)")
    }

    @Test func levelsAreRMSInDBFS() {
        // A sine of amplitude 0.5 has RMS 0.5/√2: -9.03 dBFS.
        var tone = ToneSource(frequency: 1000, amplitude: 0.5)
        let analysis = analyser.analyse(tone.samples(frames: 50))
        #expect(abs(analysis.level - -9.03) < 0.05, "\(analysis.level)")
        #expect(abs(analysis.peak - -6.02) < 0.05, "\(analysis.peak)")
        var quieter = SyntheticVoice(number: TestNumbers.alice, level: 0.0125)
        var louder = SyntheticVoice(number: TestNumbers.alice, level: 0.125)
        let difference = analyser.analyse(louder.samples(frames: 100)).level - analyser.analyse(quieter.samples(frames: 100)).level
        #expect(abs(difference - 20) < 0.5)
    }

    @Test func twoNumbersInTheSameSlotAreNotGuessedBetween() throws {
        let alice = VoiceSignature(number: TestNumbers.alice)
        let twin = try #require((0..<500).lazy.map { VoiceSignature(number: "+1666\($0)") }.first { $0.slot == alice.slot })
        var voice = SyntheticVoice(signature: alice)
        let analysis = VoiceAnalyser(candidates: [alice, twin]).analyse(voice.samples(frames: 100))
        #expect(analysis.speaker == nil)
        #expect(analysis.matchFraction > 0.5)
    }

    @Test func listenerFollowsWhoIsTalkingNow() {
        var listener = VoiceListener(analyser: analyser)
        var alice = SyntheticVoice(number: TestNumbers.alice)
        var bob = SyntheticVoice(number: TestNumbers.bob)
        for _ in 0..<75 { listener.append(alice.nextFrame()) }
        #expect(listener.report().speaker == VoiceSignature(number: TestNumbers.alice))
        for _ in 0..<75 { listener.append(bob.nextFrame()) }
        #expect(listener.report().speaker == VoiceSignature(number: TestNumbers.bob))
        var silence = SilenceSource()
        for _ in 0..<50 { listener.append(silence.nextFrame()) }
        #expect(listener.report().isSilent)
    }
}
