import DuetMedia
import Testing

@Suite("Voice sources")
struct VoiceSourceTests {
    @Test func everySourceMakesWholeFrames() {
        var sources: [any AudioSource] = [
            SilenceSource(), ToneSource(frequency: 440), SweepSource(), NoiseSource(), SyntheticVoice(number: TestNumbers.alice)
        ]
        for index in sources.indices {
            #expect(sources[index].nextFrame().count == AudioFormat.samplesPerFrame)
            #expect(sources[index].nextFloatFrame().count == 960)
        }
    }

    @Test func aNumberAlwaysHasTheSameVoiceWhateverItsFormatting() {
        var plain = SyntheticVoice(number: "+15551234")
        var formatted = SyntheticVoice(number: "+1 555-1234")
        #expect(plain.signature == formatted.signature)
        #expect(plain.samples(frames: 25) == formatted.samples(frames: 25))
    }

    @Test func testNumbersHaveDistinctPitchSlots() {
        let slots = [TestNumbers.alice, TestNumbers.bob, TestNumbers.carol].map { VoiceSignature(number: $0).slot }
        #expect(Set(slots).count == 3, "test numbers must not share a slot: \(slots)")
    }

    @Test func slotsStayWithinOneOctaveSoNoneIsAnotherHarmonic() {
        let pitches = (0..<VoiceSignature.slotCount).map(VoiceSignature.pitch(slot:))
        #expect(pitches.first == VoiceSignature.lowestPitch)
        #expect(pitches.last! < 2 * pitches.first!)
        for (low, high) in zip(pitches, pitches.dropFirst()) {
            #expect(high / low > 1.04, "slots must be well separated")
        }
    }

    @Test func numbersSpreadOverTheSlots() {
        let slots = Set((0..<200).map { VoiceSignature(number: "+1555\(1000 + $0)").slot })
        #expect(slots.count == VoiceSignature.slotCount)
    }

    @Test func voiceIsSpeechLikeNotASine() {
        var voice = SyntheticVoice(number: TestNumbers.alice)
        let samples = voice.samples(frames: 150)
        let analysis = VoiceAnalyser(numbers: [TestNumbers.alice]).analyse(samples)
        // Talking level with headroom, no clipping.
        #expect(analysis.level > -26 && analysis.level < -16, "level \(analysis.level)")
        #expect(analysis.peak < -1)
        // Syllables and pauses: some 20 ms frames are far quieter than others.
        let frameLevels = stride(from: 0, to: samples.count, by: 960).map { start in
            VoiceAnalyser(candidates: []).analyse(Array(samples[start..<start + 960])).level
        }
        #expect(frameLevels.max()! - frameLevels.min()! > 30)
        // Harmonics: the energy is not all at the fundamental (a sine would be).
        let pure = ToneSource(frequency: voice.signature.pitch, amplitude: 0.2)
        #expect(ZeroCrossings.rate(samples) > 2 * ZeroCrossings.rate(pure.samplesCopy(frames: 150)))
    }

    @Test func sweepAndNoiseAreDeterministic() {
        var a = NoiseSource(seed: 7)
        var b = NoiseSource(seed: 7)
        #expect(a.samples(frames: 3) == b.samples(frames: 3))
        var silence = SilenceSource()
        #expect(silence.nextFrame().allSatisfy { $0 == 0 })
    }
}

/// Sign changes per sample: rises with higher-frequency content, a cheap speech-vs-sine check.
enum ZeroCrossings {
    static func rate(_ samples: [Int16]) -> Double {
        let voiced = samples.filter { abs(Int($0)) > 64 }
        let crossings = zip(voiced, voiced.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
        return Double(crossings) / Double(max(1, voiced.count))
    }
}

extension AudioSource {
    func samplesCopy(frames: Int) -> [Int16] {
        var copy = self
        return copy.samples(frames: frames)
    }
}
