import Foundation

/// Digital silence: what a muted device sends, and the analyser's "nobody is talking" case.
public struct SilenceSource: AudioSource, Sendable {
    public init() {}

    public mutating func nextFloatFrame() -> [Float] {
        [Float](repeating: 0, count: AudioFormat.samplesPerFrame)
    }
}

/// A steady sine, for level calibration and the "tone bot".
public struct ToneSource: AudioSource, Sendable {
    public let frequency: Double
    public let amplitude: Float
    private var phase: Double = 0

    public init(frequency: Double, amplitude: Float = 0.25) {
        self.frequency = frequency
        self.amplitude = amplitude
    }

    public mutating func nextFloatFrame() -> [Float] {
        let step = 2 * Double.pi * frequency / Double(AudioFormat.sampleRate)
        var frame = [Float](repeating: 0, count: AudioFormat.samplesPerFrame)
        for i in frame.indices {
            frame[i] = amplitude * Float(sin(phase))
            phase += step
            if phase > 2 * .pi { phase -= 2 * .pi }
        }
        return frame
    }
}

/// A logarithmic sine sweep that repeats, touching every band the codec carries; used to
/// check that the analyser does not mistake a passing tone for someone's voice.
public struct SweepSource: AudioSource, Sendable {
    public let startFrequency: Double
    public let endFrequency: Double
    public let period: Double
    public let amplitude: Float
    private var sampleIndex = 0
    private var phase: Double = 0

    /// - Parameter period: seconds to go from `startFrequency` to `endFrequency` before restarting.
    public init(from startFrequency: Double = 50, to endFrequency: Double = 20_000, period: Double = 2, amplitude: Float = 0.25) {
        precondition(startFrequency > 0 && endFrequency > startFrequency && period > 0, "sweep needs 0 < start < end and a positive period")
        self.startFrequency = startFrequency
        self.endFrequency = endFrequency
        self.period = period
        self.amplitude = amplitude
    }

    public mutating func nextFloatFrame() -> [Float] {
        let rate = Double(AudioFormat.sampleRate)
        let periodSamples = Int(period * rate)
        let ratio = endFrequency / startFrequency
        var frame = [Float](repeating: 0, count: AudioFormat.samplesPerFrame)
        for i in frame.indices {
            let t = Double(sampleIndex % periodSamples) / Double(periodSamples)
            let f = startFrequency * pow(ratio, t)
            phase += 2 * .pi * f / rate
            if phase > 2 * .pi { phase -= 2 * .pi }
            frame[i] = amplitude * Float(sin(phase))
            sampleIndex += 1
        }
        return frame
    }
}

/// White noise from a seed, so "noise is nobody's voice" is the same test on every run.
public struct NoiseSource: AudioSource, Sendable {
    public let amplitude: Float
    private var random: SeededRandom

    public init(seed: UInt64 = 1, amplitude: Float = 0.25) {
        self.amplitude = amplitude
        random = SeededRandom(seed: seed)
    }

    public mutating func nextFloatFrame() -> [Float] {
        (0..<AudioFormat.samplesPerFrame).map { _ in amplitude * Float.random(in: -1...1, using: &random) }
    }
}
