import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// The send chain of one stream: source → encoder → optional frame sealer (SFrame, in group
/// calls) → RTP → SRTP. Frame n leaves at n frame times from the first, so a late clock
/// catches up (at most `catchUp` frames at once; older ones are skipped, as a live voice
/// would be). Owned by a `MediaPump`; not thread-safe alone.
struct OutboundMedia {
    /// What this side sends: its own synthetic voice, or (the Echo Test bot) what it hears.
    enum Source: Sendable, Equatable {
        case synthetic
        case echo
    }

    let kind: MediaKind
    let source: Source
    private var encoder: VoiceEncoder
    private var packetizer: RTPPacketizer
    /// Decoded frames waiting to be sent back (echo), at most a second's worth.
    private var echoQueue: [[Int16]] = []
    /// Sends silence instead of the voice (the voice keeps its place in time).
    var muted = false
    /// Frames sent, and frame times passed (sent or skipped) since `firstFrameAt`.
    private(set) var sent = 0
    private var framesPassed = 0
    private var firstFrameAt: ContinuousClock.Instant?

    /// Frames sent at most in one go after the clock stalled.
    static let catchUp = 3

    var ssrc: UInt32 { packetizer.ssrc }

    init(kind: MediaKind = .audio, voice number: String, source: Source = .synthetic, ssrc: UInt32, options: MediaOptions) throws {
        self.kind = kind
        self.source = source
        encoder = try VoiceEncoder(number: number, complexity: options.opusComplexity, mode: options.voiceEncoding)
        packetizer = RTPPacketizer(ssrc: ssrc)
    }

    /// The frames due by now, each as an SRTP packet: sealed with `seal` (when given) before
    /// RTP, protected with `srtp` after.
    mutating func dueFrames(
        now: ContinuousClock.Instant, srtp: SRTPSession, seal: (([UInt8]) throws -> [UInt8])?
    ) throws -> [[UInt8]] {
        let start = firstFrameAt ?? now
        firstFrameAt = start
        let due = Int((now - start) / kind.frameDuration) + 1
        var packets: [[UInt8]] = []
        while framesPassed < due {
            if due - framesPassed <= Self.catchUp {
                let frame = try nextFrame()
                let payload = try seal.map { try $0(frame) } ?? frame
                packets.append(try srtp.protect(packetizer.packetize(payload).serialized()))
                sent += 1
            }
            framesPassed += 1
        }
        return packets
    }

    private mutating func nextFrame() throws -> [UInt8] {
        switch source {
        case .synthetic:
            return try encoder.nextFrame(muted: muted)
        case .echo:
            let heard = muted || echoQueue.isEmpty ? nil : echoQueue.removeFirst()
            return try encoder.encode(heard ?? [Int16](repeating: 0, count: AudioFormat.samplesPerFrame))
        }
    }

    /// Samples heard, for an echo source to send back (ignored by a synthetic one).
    mutating func echo(_ samples: [Int16]) {
        guard source == .echo else { return }
        echoQueue.append(samples)
        if echoQueue.count > 50 { echoQueue.removeFirst(echoQueue.count - 50) }
    }
}
