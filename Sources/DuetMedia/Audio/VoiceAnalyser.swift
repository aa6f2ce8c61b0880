import Foundation

/// Proves what a receiver heard: whose synthetic voice is in decoded audio, how
/// loud it is, or that it is silence. This is how calls, the demo and the tests assert that
/// media really flowed end to end, so it must hold up after Opus, loss and concealment.
///
/// It tracks pitch (YIN, on audio decimated to 8 kHz) in 40 ms blocks and asks which
/// candidate's slot pitch most voiced blocks sit on. Pitch, unlike a spectrum match, survives
/// the codec's reshaping of the harmonics; noise and sweeps are rejected because they are
/// either not periodic or not periodic at one steady pitch.
public struct VoiceAnalyser: Sendable {
    /// The voices the receiver expects (e.g. the other call members).
    public var candidates: [VoiceSignature]
    /// Below this RMS the audio counts as silence.
    public var silenceThreshold: Double = -60
    /// A voice is named only if at least this share of voiced blocks sit on its pitch.
    public var minimumMatchFraction: Double = 0.5

    public init(candidates: [VoiceSignature]) {
        self.candidates = candidates
    }

    public init(numbers: [String]) {
        self.init(candidates: numbers.map(VoiceSignature.init(number:)))
    }

    /// Analyses a stretch of 48 kHz mono audio; half a second or more gives a steady answer.
    public func analyse(_ samples: [Int16]) -> VoiceAnalysis {
        let level = Level(samples)
        guard level.rms > silenceThreshold else {
            return VoiceAnalysis(
                level: level.rms, peak: level.peak, isSilent: true, pitch: nil, voicedFraction: 0, speaker: nil, matchFraction: 0)
        }
        let pitches = PitchTracker.track(Decimator.to8kHz(samples), silenceThreshold: silenceThreshold)
        let voiced = pitches.compactMap { $0 }
        let voicedFraction = pitches.isEmpty ? 0 : Double(voiced.count) / Double(pitches.count)

        let scored = candidates.map { candidate in
            let hits = voiced.filter { abs($0 / candidate.pitch - 1) < Self.pitchTolerance }.count
            return (signature: candidate, fraction: voiced.isEmpty ? 0 : Double(hits) / Double(voiced.count))
        }
        let best = scored.max { $0.fraction < $1.fraction }
        // Two expected numbers that share a pitch slot cannot be told apart: name neither.
        let ambiguous = scored.contains { $0.signature != best?.signature && $0.fraction == best?.fraction }
        let enoughVoice = voiced.count >= Self.minimumVoicedBlocks && voicedFraction >= Self.minimumVoicedFraction
        let speaker = best.flatMap { $0.fraction >= minimumMatchFraction && enoughVoice && !ambiguous ? $0.signature : nil }
        return VoiceAnalysis(
            level: level.rms, peak: level.peak, isSilent: false, pitch: Self.median(voiced),
            voicedFraction: voicedFraction, speaker: speaker, matchFraction: best?.fraction ?? 0)
    }

    /// Half the spacing between pitch slots (4.4 %), minus a margin for tracking error.
    static let pitchTolerance = 0.018
    /// 200 ms of voiced blocks before naming anyone.
    static let minimumVoicedBlocks = 10
    /// Synthetic voices are voiced most of the time they are not pausing; noise almost never.
    static let minimumVoicedFraction = 0.3

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }
}

/// What `VoiceAnalyser` found in a stretch of audio.
public struct VoiceAnalysis: Sendable, Equatable, CustomStringConvertible {
    /// RMS level in dBFS (a full-scale square wave is 0 dBFS, a full-scale sine -3 dBFS);
    /// floored at -120 so digital silence stays a number.
    public var level: Double
    public var peak: Double
    public var isSilent: Bool
    /// Median pitch of the voiced blocks, in Hz.
    public var pitch: Double?
    /// Share of non-quiet 40 ms blocks with a clear pitch.
    public var voicedFraction: Double
    /// The candidate whose voice this is, or nil for silence, noise or an unknown voice.
    public var speaker: VoiceSignature?
    /// Share of voiced blocks on the best candidate's pitch.
    public var matchFraction: Double

    public var description: String {
        let levelText = String(format: "%.1f dBFS", level)
        if isSilent { return "silence (\(levelText))" }
        let pitchText = pitch.map { String(format: "%.1f Hz", $0) } ?? "no pitch"
        let who = speaker.map { "voice of \($0.number)" } ?? "unknown sound"
        return "\(who) at \(levelText), \(pitchText), voiced \(Int(voicedFraction * 100)) %, match \(Int(matchFraction * 100)) %"
    }
}

/// RMS and peak of 16-bit audio in dBFS.
struct Level {
    static let floor = -120.0
    var rms: Double
    var peak: Double

    init(_ samples: [Int16]) {
        guard !samples.isEmpty else {
            rms = Self.floor
            peak = Self.floor
            return
        }
        var sum = 0.0
        var maximum = 0.0
        for sample in samples {
            let x = Double(sample) / 32768
            sum += x * x
            maximum = max(maximum, abs(x))
        }
        rms = Self.decibels(sqrt(sum / Double(samples.count)))
        peak = Self.decibels(maximum)
    }

    static func decibels(_ amplitude: Double) -> Double {
        amplitude > 0 ? max(floor, 20 * log10(amplitude)) : floor
    }
}

/// 48 kHz → 8 kHz with a windowed-sinc low-pass first, so harmonics above 4 kHz do not fold
/// down onto non-harmonic frequencies and blur the pitch.
enum Decimator {
    static let factor = 6
    static let taps: [Double] = {
        let count = 73
        let cutoff = 3400.0 / Double(AudioFormat.sampleRate)
        let middle = Double(count - 1) / 2
        let raw = (0..<count).map { i -> Double in
            let n = Double(i) - middle
            let sinc = n == 0 ? 2 * cutoff : sin(2 * .pi * cutoff * n) / (.pi * n)
            let window = 0.54 - 0.46 * cos(2 * .pi * Double(i) / Double(count - 1))
            return sinc * window
        }
        let sum = raw.reduce(0, +)
        return raw.map { $0 / sum }
    }()

    static func to8kHz(_ samples: [Int16]) -> [Double] {
        let taps = Self.taps
        guard samples.count >= taps.count else { return [] }
        let outputCount = (samples.count - taps.count) / factor + 1
        var output = [Double](repeating: 0, count: outputCount)
        // Converted once, not once per tap (each sample meets 73 taps).
        let input = samples.map { Double($0) / 32768 }
        input.withUnsafeBufferPointer { input in
            taps.withUnsafeBufferPointer { h in
                for o in 0..<outputCount {
                    let start = o * factor
                    var acc = 0.0
                    for k in 0..<h.count { acc += h[k] * input[start + k] }
                    output[o] = acc
                }
            }
        }
        return output
    }
}

/// YIN pitch estimation (de Cheveigné & Kawahara, 2002) on 8 kHz audio.
enum PitchTracker {
    static let rate = 8000.0
    static let blockLength = 320  // 40 ms
    static let hop = 160  // 20 ms
    static let window = 200
    static let minimumLag = 20  // 400 Hz
    static let maximumLag = 110  // ~73 Hz
    static let threshold = 0.15

    /// One pitch (Hz) or nil (unvoiced) per block loud enough to judge; quiet blocks are left
    /// out entirely so pauses between syllables do not count against a voice.
    static func track(_ x: [Double], silenceThreshold: Double) -> [Double?] {
        guard x.count >= blockLength else { return [] }
        let starts = Array(stride(from: 0, through: x.count - blockLength, by: hop))
        let energies = starts.map { start in
            Level.decibels(sqrt(x[start..<start + blockLength].reduce(0) { $0 + $1 * $1 } / Double(blockLength)))
        }
        // Judge only blocks within 30 dB of the loudest: syllable tails and pauses are not evidence.
        let loudest = energies.max() ?? Level.floor
        let floor = max(silenceThreshold, loudest - 30)
        var result: [Double?] = []
        x.withUnsafeBufferPointer { samples in
            for (start, energy) in zip(starts, energies) where energy > floor {
                result.append(pitch(samples, at: start))
            }
        }
        return result
    }

    /// YIN's cumulative mean normalised difference, found one lag at a time: its value at a
    /// lag needs only the lags below it, so a voiced block stops just past its dip (about half
    /// the lags for the synthetic voices) instead of computing every lag first. The answer is
    /// the same as computing them all.
    static func pitch(_ x: UnsafeBufferPointer<Double>, at start: Int) -> Double? {
        var normalised = [Double](repeating: 1, count: maximumLag + 2)
        var running = 0.0
        var computed = 0
        func extend(through lag: Int) {
            while computed < lag {
                computed += 1
                var sum = 0.0
                for j in start..<start + window {
                    let delta = x[j] - x[j + computed]
                    sum += delta * delta
                }
                running += sum
                normalised[computed] = running > 0 ? sum * Double(computed) / running : 1
            }
        }
        var lag = minimumLag
        while lag <= maximumLag {
            extend(through: lag + 1)
            if normalised[lag] < threshold {
                while lag + 1 <= maximumLag, normalised[lag + 1] < normalised[lag] {
                    lag += 1
                    extend(through: lag + 1)
                }
                // Parabolic interpolation around the dip for sub-sample precision.
                let (a, b, c) = (normalised[lag - 1], normalised[lag], normalised[lag + 1])
                let denominator = a - 2 * b + c
                let shift = denominator > 0 ? 0.5 * (a - c) / denominator : 0
                return rate / (Double(lag) + max(-0.5, min(0.5, shift)))
            }
            lag += 1
        }
        return nil
    }
}
