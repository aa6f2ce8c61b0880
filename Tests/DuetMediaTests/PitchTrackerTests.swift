import Testing

@testable import DuetMedia

/// The pitch tracker computes YIN's normalised difference only as far as it needs (it stops
/// past the first dip): it must give exactly what computing every lag first gives, on voices,
/// on noise and on silence alike.
@Suite("Pitch tracker")
struct PitchTrackerTests {
    /// YIN with every lag computed before the search, as the tracker did before it stopped early.
    static func eagerPitch(_ x: UnsafeBufferPointer<Double>, at start: Int) -> Double? {
        typealias T = PitchTracker
        var difference = [Double](repeating: 0, count: T.maximumLag + 2)
        for lag in 1...T.maximumLag + 1 {
            difference[lag] = (start..<start + T.window).reduce(0) { $0 + (x[$1] - x[$1 + lag]) * (x[$1] - x[$1 + lag]) }
        }
        var normalised = [Double](repeating: 1, count: T.maximumLag + 2)
        var running = 0.0
        for lag in 1...T.maximumLag + 1 {
            running += difference[lag]
            normalised[lag] = running > 0 ? difference[lag] * Double(lag) / running : 1
        }
        var lag = T.minimumLag
        while lag <= T.maximumLag {
            if normalised[lag] < T.threshold {
                while lag + 1 <= T.maximumLag, normalised[lag + 1] < normalised[lag] { lag += 1 }
                let (a, b, c) = (normalised[lag - 1], normalised[lag], normalised[lag + 1])
                let denominator = a - 2 * b + c
                let shift = denominator > 0 ? 0.5 * (a - c) / denominator : 0
                return T.rate / (Double(lag) + max(-0.5, min(0.5, shift)))
            }
            lag += 1
        }
        return nil
    }

    @Test(arguments: ["+15550001", "+15557004", "+15558123", "noise", "silence"])
    func stoppingAtTheDipGivesWhatEveryLagGives(_ name: String) {
        var samples: [Int16]
        switch name {
        case "noise": samples = (0..<48_000).map { _ in Int16.random(in: -4000...4000) }
        case "silence": samples = [Int16](repeating: 0, count: 48_000)
        default:
            var voice = SyntheticVoice(number: name)
            samples = voice.samples(frames: 50)
        }
        let x = Decimator.to8kHz(samples)
        var voiced = 0
        x.withUnsafeBufferPointer { x in
            for start in stride(from: 0, through: x.count - PitchTracker.blockLength, by: PitchTracker.hop) {
                let pitch = PitchTracker.pitch(x, at: start)
                #expect(pitch == Self.eagerPitch(x, at: start), "block at \(start)")
                if pitch != nil { voiced += 1 }
            }
        }
        // The voices are voiced most of the time; noise and silence almost never.
        #expect(name.hasPrefix("+") ? voiced > 10 : voiced < 5)
    }
}
