import Foundation

/// A device's recognisable "voice": harmonics of a fundamental chosen by the
/// phone number, shaped by vowel formants and spoken in syllables with pauses.
///
/// It is speech-like on purpose: a pure sine would let Opus pick its music (CELT) path, while
/// this keeps calls and benchmarks on the speech (SILK) path real calls take. The fundamental
/// is held within ±0.5 % of its slot pitch so `VoiceAnalyser` can name the speaker after a
/// lossy Opus round trip.
public struct SyntheticVoice: AudioSource, Sendable {
    public let signature: VoiceSignature
    /// RMS level while a vowel is sustained, as a fraction of full scale.
    public let level: Float

    private var random: SeededRandom
    /// Where in the fundamental's period the voice is, in cycles (0..<1).
    private var phase: Double = 0
    /// One period of the current vowel's harmonics summed, read by `phase` (see `periodTable`).
    private var period: [Float] = []
    private var syllable = Syllable.pause(samples: 0)
    private var syllablePosition = 0
    private var syllablesUntilPause = 0

    /// - Parameters:
    ///   - number: the device's phone number; formatting is ignored ("+1 555-1234" == "+15551234").
    ///   - level: sustained RMS as a fraction of full scale; the default sits near -18 dBFS.
    public init(number: String, level: Float = 0.125) {
        self.init(signature: VoiceSignature(number: number), level: level)
    }

    public init(signature: VoiceSignature, level: Float = 0.125) {
        self.signature = signature
        self.level = level
        random = SeededRandom(seed: signature.seed)
        syllablesUntilPause = Int.random(in: 2...5, using: &random)
    }

    public mutating func nextFloatFrame() -> [Float] {
        var frame = [Float](repeating: 0, count: AudioFormat.samplesPerFrame)
        for i in frame.indices {
            if syllablePosition >= syllable.length { startNextSyllable() }
            frame[i] = sample()
            syllablePosition += 1
        }
        return frame
    }

    // MARK: - Synthesis

    private enum Syllable {
        case pause(samples: Int)
        /// A voiced syllable: `pitchScale` sets its intonation, `amplitudes[k-1]` harmonic k's weight.
        case vowel(samples: Int, pitchScale: Double, amplitudes: [Float])

        var length: Int {
            switch self {
            case let .pause(samples), let .vowel(samples, _, _): samples
            }
        }
    }

    /// (F1, F2, F3) in Hz for a, e, i, o, u: enough variety for the spectrum to move like speech.
    private static let vowels: [(Double, Double, Double)] = [
        (800, 1200, 2500), (500, 1800, 2500), (300, 2300, 3000), (500, 900, 2400), (320, 800, 2300)
    ]
    private static let bandwidths = (90.0, 110.0, 160.0)
    private static let highestHarmonicHz = 3800.0

    private mutating func startNextSyllable() {
        let rate = Double(AudioFormat.sampleRate)
        syllablePosition = 0
        if syllablesUntilPause == 0 {
            syllablesUntilPause = Int.random(in: 2...5, using: &random)
            syllable = .pause(samples: Int(rate * Double.random(in: 0.12...0.28, using: &random)))
            return
        }
        syllablesUntilPause -= 1
        let vowel = Self.vowels[Int.random(in: 0..<Self.vowels.count, using: &random)]
        let seconds = Double.random(in: 0.15...0.26, using: &random)
        let pitchScale = Double.random(in: 0.997...1.003, using: &random)
        let weights = amplitudes(for: vowel)
        syllable = .vowel(samples: Int(rate * seconds), pitchScale: pitchScale, amplitudes: weights)
        period = Self.periodTable(weights)
    }

    /// Entries in one period's table: the highest harmonic (~38th) still gets 50 entries a
    /// cycle, so reading between two entries is off by under 0.05 % of its amplitude.
    static let periodLength = 2048

    /// One period of Σ a_k·sin(kθ), computed once per syllable. Summing the ~38 harmonics for
    /// every sample instead made the voice the costliest part of a device after Opus — the load
    /// bench runs a hundred and fifty of them — and the pitch only glides by 0.4 % in a syllable,
    /// so the period's shape does not change within one.
    static func periodTable(_ amplitudes: [Float]) -> [Float] {
        (0...periodLength).map { index in  // one extra entry: the first again, to read between
            let theta = 2 * Double.pi * Double(index % periodLength) / Double(periodLength)
            // sin(kθ) by the Chebyshev recurrence: one sin and one cos per entry, not one per harmonic.
            let twoCos = 2 * cos(theta)
            var previous = 0.0, current = sin(theta), sum = 0.0
            for amplitude in amplitudes {
                sum += Double(amplitude) * current
                (previous, current) = (current, twoCos * current - previous)
            }
            return Float(sum)
        }
    }

    /// Harmonic weights: a falling glottal tilt times formant resonances, fundamental kept
    /// strong (the analyser listens for it), scaled so the sustained RMS equals `level`.
    private func amplitudes(for vowel: (Double, Double, Double)) -> [Float] {
        let f0 = signature.pitch
        let count = Int(Self.highestHarmonicHz / f0)
        let formants = [(vowel.0, Self.bandwidths.0), (vowel.1, Self.bandwidths.1), (vowel.2, Self.bandwidths.2)]
        var weights: [Double] = (1...count).map { k in
            let f = Double(k) * f0
            let resonance = formants.enumerated().reduce(0.08) { sum, item in
                let (index, (centre, width)) = item
                let gain = 1.0 / Double(index + 1)
                return sum + gain / (1 + pow((f - centre) / width, 2))
            }
            return resonance / pow(Double(k), 0.6)
        }
        weights[0] = max(weights[0], 1.2 * (weights.dropFirst().max() ?? 0))
        let rms = sqrt(weights.reduce(0) { $0 + $1 * $1 } / 2)
        return weights.map { Float($0 / rms) * level }
    }

    private mutating func sample() -> Float {
        guard case let .vowel(length, pitchScale, _) = syllable else { return 0 }
        let rate = Double(AudioFormat.sampleRate)
        let progress = Double(syllablePosition) / Double(length)
        // Speech falls in pitch through a syllable; keep it small so the slot stays unambiguous.
        let f = signature.pitch * pitchScale * (1.002 - 0.004 * progress)
        phase += f / rate
        if phase >= 1 { phase -= 1 }
        let position = phase * Double(Self.periodLength)
        let index = Int(position)
        let fraction = Float(position - Double(index))
        let value = period[index] + (period[index + 1] - period[index]) * fraction
        return value * envelope(position: syllablePosition, length: length)
    }

    /// Raised-cosine attack and release so syllables start and stop without clicks.
    private func envelope(position: Int, length: Int) -> Float {
        let attack = AudioFormat.sampleRate * 25 / 1000
        let release = AudioFormat.sampleRate * 35 / 1000
        if position < attack {
            return Float(0.5 - 0.5 * cos(Double.pi * Double(position) / Double(attack)))
        }
        let remaining = length - position
        if remaining < release {
            return Float(0.5 - 0.5 * cos(Double.pi * Double(remaining) / Double(release)))
        }
        return 1
    }
}

/// What identifies a synthetic voice: the number it belongs to and the pitch slot that
/// number hashes to. Receivers build these from the numbers they expect to hear.
public struct VoiceSignature: Hashable, Sendable, CustomStringConvertible {
    /// Slots are a sixteenth of an octave apart (4.4 %) and all lie within one octave, so no
    /// slot is another's harmonic and an octave error in pitch tracking never names someone else.
    public static let slotCount = 16
    public static let lowestPitch = 100.0

    /// The number with formatting removed (digits only).
    public let number: String
    public let slot: Int

    public init(number: String) {
        self.number = Self.normalise(number)
        slot = Int(Self.hash(self.number) % UInt64(Self.slotCount))
    }

    /// The fundamental frequency in Hz for this voice's slot.
    public var pitch: Double { Self.pitch(slot: slot) }

    public static func pitch(slot: Int) -> Double {
        lowestPitch * pow(2, Double(slot) / Double(slotCount))
    }

    /// Two numbers that share a slot sound alike; callers assigning bot numbers can check this.
    public func soundsLike(_ other: VoiceSignature) -> Bool { slot == other.slot }

    public var description: String { "\(number) (\(String(format: "%.1f", pitch)) Hz)" }

    var seed: UInt64 { Self.hash(number) }

    static func normalise(_ number: String) -> String {
        String(number.unicodeScalars.filter { ("0"..."9").contains($0) }.map(Character.init))
    }

    /// FNV-1a, 64-bit: stable across runs and platforms, unlike `Hasher`.
    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01B3
        }
        return h
    }
}
