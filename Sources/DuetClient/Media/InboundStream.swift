import DuetMedia
import DuetWire
import Foundation

/// The receiving end of one other device's stream, after SRTP and any frame opener: its own
/// jitter buffer and decoder (each sender has its own sequence numbers, timing and losses)
/// and a listener that says whose voice the decoded audio is. The 1:1 call has one; a group
/// call or meeting one per other participant. Owned by a `MediaPump`; not thread-safe alone.
final class InboundStream {
    /// Whose stream this is: a number, or a meeting guest's id.
    let source: String
    let kind: MediaKind
    private var jitter = JitterBuffer()
    private let decoder: OpusDecoder
    private var listener: VoiceListener
    private let startedAt: ContinuousClock.Instant
    /// False: frames are counted and dropped, never decoded (a load generator's listeners).
    private let plays: Bool
    private let recording: WAVWriter?
    private(set) var received = 0
    /// The SFrame key epoch of the last frame (group calls).
    private(set) var epoch: UInt16?
    /// `received` at the last `report()`: none since means nothing is being heard.
    private var receivedAtLastReport = 0

    /// `voices`: every voice this device may hear on this stream, so a frame of someone else's
    /// (a server passing one off as another) is not counted as this source's.
    init(
        source: String, kind: MediaKind = .audio, voices: [String], startedAt: ContinuousClock.Instant = .now, plays: Bool = true,
        recording: URL? = nil
    ) throws {
        self.source = source
        self.kind = kind
        self.plays = plays
        self.startedAt = startedAt
        decoder = try OpusDecoder()
        listener = VoiceListener(analyser: VoiceAnalyser(numbers: voices))
        self.recording = try recording.map { try WAVWriter(url: $0) }
    }

    /// One frame of this source's, opened: into the jitter buffer by its RTP numbering.
    func insert(_ packet: RTPPacket, payload: [UInt8], epoch: UInt16?) {
        received += 1
        if let epoch { self.epoch = epoch }
        _ = jitter.insert(
            JitterBuffer.Packet(
                sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, arrival: ContinuousClock.now - startedAt,
                payload: payload))
    }

    /// What one playout gave: the samples (decoded, or recovered/concealed for a gap), and
    /// whether they came from a real packet.
    struct Playout {
        var samples: [Int16]?
        var decodedPacket: Bool
    }

    /// Every frame time: the next frame to the listener (and the WAV file, if any).
    func playout() -> Playout {
        guard plays else {
            _ = jitter.nextFrame()  // keeps the loss figures without decoding
            return Playout(samples: nil, decodedPacket: false)
        }
        var result = Playout(samples: nil, decodedPacket: false)
        switch jitter.nextFrame() {
        case let .packet(payload):
            result.samples = try? decoder.decode(payload)
            result.decodedPacket = result.samples != nil
        case let .missing(next):
            result.samples = try? next.map { try decoder.recoverWithFEC(nextPacket: $0) } ?? decoder.concealLoss()
        case .notReady:
            break
        }
        if let samples = result.samples {
            listener.append(samples)
            try? recording?.append(samples)
        }
        return result
    }

    /// What the listener made of the last second, whatever arrived meanwhile.
    func analysis() -> VoiceAnalysis { listener.report() }

    /// A once-a-second summary of this stream.
    struct Report: Sendable, Equatable {
        /// The number whose voice is heard; nil when nobody is, or nothing arrived since the last report.
        var speaker: String?
        var level: Double
        var lossPercent: Double
        var jitterMilliseconds: Double
        var received: Int
    }

    /// What this side heard over the last second. With no packet since the last report nobody
    /// is heard, whatever the analyser last heard: after a network change left the call silent,
    /// "hearing Bob" would be a lie.
    func report() -> Report {
        let analysis = listener.report()
        let stats = jitter.statistics
        let expected = stats.received + stats.lost
        let silent = received == receivedAtLastReport
        receivedAtLastReport = received
        return Report(
            speaker: silent ? nil : analysis.speaker?.number, level: silent ? -120 : analysis.level,
            lossPercent: expected == 0 ? 0 : Double(stats.lost) * 100 / Double(expected),
            jitterMilliseconds: stats.jitterMilliseconds, received: received)
    }

    func close() {
        try? recording?.close()
    }
}
