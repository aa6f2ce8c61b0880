/// Keeps the last stretch of a received stream so a call can ask "who is talking, how loud"
/// once a second (the headless `hearing` lines, README.md "Calls") without buffering the whole call.
public struct VoiceListener: Sendable {
    public var analyser: VoiceAnalyser
    /// How much recent audio each report looks at.
    public let window: Int
    private var samples: [Int16] = []

    /// - Parameter windowSeconds: one second is enough for a steady pitch through pauses.
    public init(analyser: VoiceAnalyser, windowSeconds: Double = 1) {
        self.analyser = analyser
        window = max(AudioFormat.samplesPerFrame, Int(windowSeconds * Double(AudioFormat.sampleRate)))
        samples.reserveCapacity(window * 2)
    }

    /// Adds decoded (or concealed) audio as it is played.
    public mutating func append(_ frame: [Int16]) {
        samples += frame
        if samples.count > 2 * window { samples.removeFirst(samples.count - window) }
    }

    /// The analysis of the most recent window.
    public func report() -> VoiceAnalysis {
        analyser.analyse(Array(samples.suffix(window)))
    }
}
