import Synchronization

/// A device's outgoing voice as Opus frames (source → Opus, 20 ms), the one place
/// that turns the synthetic voice, mute and the encoder into packets for every kind of call.
///
/// `.live` encodes each 20 ms of the voice when it is due, as a phone encodes its microphone.
/// `.replayed` encodes the voice's first `replayedFrames` once and sends those packets round and
/// round: for parties that talk for a long time on a shared machine (the load bench's hundred
/// devices), an Opus encode per frame is most of what they cost, while a receiver gets the same
/// thing either way — real Opus of this voice, which it decodes and recognises. Muting sends
/// encoded silence in both modes, and the voice keeps its place in time.
public struct VoiceEncoder {
    /// How the voice is encoded; see the type's comment.
    public enum Mode: Sendable, Equatable {
        case live
        case replayed
    }

    /// Three seconds: the voice's syllables and pauses repeat often enough within it that any
    /// second of the replay is recognisable (`VoiceAnalyser` names a voice from half a second).
    public static let replayedFrames = 150

    public let mode: Mode
    private var voice: SyntheticVoice
    private let encoder: OpusEncoder
    private let replay: [[UInt8]]
    private var position = 0

    public init(number: String, complexity: Int = 10, mode: Mode = .live) throws(OpusError) {
        self.mode = mode
        voice = SyntheticVoice(number: number)
        encoder = try OpusEncoder(configuration: .init(complexity: complexity))
        replay = mode == .replayed ? try Self.replay(of: voice, number: number, complexity: complexity, encoder: encoder) : []
    }

    /// Encodes the replay of `number`'s voice now, so that the first call to use it does not
    /// (the load bench does this before it measures anything).
    public static func prepareReplay(number: String, complexity: Int) throws(OpusError) {
        let encoder = try OpusEncoder(configuration: .init(complexity: complexity))
        _ = try replay(of: SyntheticVoice(number: number), number: number, complexity: complexity, encoder: encoder)
    }

    /// A voice's replay, encoded once per process and complexity: a device replays the same
    /// packets in every call it joins. At most `replaysKept` are kept (about 9 KB each).
    private static func replay(of voice: SyntheticVoice, number: String, complexity: Int, encoder: OpusEncoder) throws(OpusError)
        -> [[UInt8]]
    {
        let key = "\(complexity) \(number)"
        if let kept = replays.withLock({ $0[key] }) { return kept }
        var recorded = voice, replay: [[UInt8]] = []
        for _ in 0..<replayedFrames { replay.append(try encoder.encode(recorded.nextFrame())) }
        replays.withLock { kept in
            if kept.count >= replaysKept { kept.removeAll() }
            kept[key] = replay
        }
        return replay
    }

    private static let replaysKept = 512
    private static let replays = Mutex<[String: [[UInt8]]]>([:])

    /// The next 20 ms of this voice, or of silence when `muted`.
    public mutating func nextFrame(muted: Bool) throws(OpusError) -> [UInt8] {
        switch mode {
        case .live:
            let frame = voice.nextFrame()  // the voice keeps its place while muted
            return try encoder.encode(muted ? Self.silence : frame)
        case .replayed:
            defer { position = (position + 1) % replay.count }
            return muted ? try encoder.encode(Self.silence) : replay[position]
        }
    }

    /// 20 ms of silence, made once rather than on every frame of the media loop.
    private static let silence = [Int16](repeating: 0, count: AudioFormat.samplesPerFrame)

    /// Any other 20 ms of audio, through the same encoder (the Echo Test bot sends back what it hears).
    public func encode(_ frame: [Int16]) throws(OpusError) -> [UInt8] {
        try encoder.encode(frame)
    }
}
