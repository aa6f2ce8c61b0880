import DuetMedia

/// Sums participants' 20 ms frames into one track. A plain sum of two loud voices overflows
/// 16 bits, and hard clipping that often sounds harsh and confuses pitch, so a limiter
/// lowers the gain at once when a frame would clip and lets it recover slowly (about half a
/// second back to unity); a final clamp catches what is left within the frame.
struct AudioMixer {
    /// Gain regained per 20 ms frame while recovering.
    static let releasePerFrame: Float = 0.04
    private(set) var gain: Float = 1

    mutating func mix(_ frames: [[Int16]]) -> [Int16] {
        let count = AudioFormat.samplesPerFrame
        guard !frames.isEmpty else {
            gain = min(1, gain + Self.releasePerFrame)
            return [Int16](repeating: 0, count: count)
        }
        var sum = [Int32](repeating: 0, count: count)
        for frame in frames {
            for i in 0..<min(count, frame.count) { sum[i] += Int32(frame[i]) }
        }
        let peak = sum.reduce(Int32(0)) { max($0, abs($1)) }
        let needed: Float = peak > Int32(Int16.max) ? Float(Int16.max) / Float(peak) : 1
        let previous = gain
        gain = needed < previous ? needed : min(needed, previous + Self.releasePerFrame)
        let start = previous, step = (gain - previous) / Float(count)
        var out = [Int16](repeating: 0, count: count)
        for i in 0..<count {
            // A falling gain applies at once (no overshoot); a rising one ramps (no click).
            let g = gain < previous ? gain : start + step * Float(i)
            let value = (Float(sum[i]) * g).rounded()
            out[i] = Int16(max(Float(Int16.min), min(Float(Int16.max), value)))
        }
        return out
    }
}
