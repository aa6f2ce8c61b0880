/// Anything that can feed the media pipeline one 20 ms frame at a time: Duet has
/// no microphone, so every call's audio starts at one of these.
///
/// Conformers produce `Float` samples in -1...1 and get the `Int16` form, which is what the
/// Opus encoder and the WAV writer take, for free.
public protocol AudioSource {
    /// The next `AudioFormat.samplesPerFrame` samples, 48 kHz mono, nominally in -1...1.
    mutating func nextFloatFrame() -> [Float]
}

extension AudioSource {
    /// The next frame as 16-bit PCM, clipped rather than wrapped if a source overshoots.
    public mutating func nextFrame() -> [Int16] {
        nextFloatFrame().map(PCM.int16)
    }

    /// `count` consecutive frames joined into one buffer, for analysis and files.
    public mutating func samples(frames count: Int) -> [Int16] {
        var out: [Int16] = []
        out.reserveCapacity(count * AudioFormat.samplesPerFrame)
        for _ in 0..<count { out += nextFrame() }
        return out
    }
}

/// Conversions between the float form sources compute in and the 16-bit form codecs carry.
public enum PCM {
    /// Rounds and clips to the Int16 range; NaN becomes 0 so a broken source stays audible as silence.
    @inlinable
    public static func int16(_ sample: Float) -> Int16 {
        guard sample.isFinite else { return sample.isNaN ? 0 : (sample > 0 ? .max : .min) }
        let scaled = (sample * 32767).rounded()
        return Int16(max(-32768, min(32767, scaled)))
    }

    @inlinable
    public static func float(_ sample: Int16) -> Float {
        Float(sample) / 32768
    }
}
