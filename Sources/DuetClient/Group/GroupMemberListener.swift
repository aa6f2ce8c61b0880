import DuetMedia
import DuetWire
import Foundation

/// The receiving half of one other participant's audio (DESIGN §3, per member): the SFrame
/// plaintext (an Opus frame) goes through its own jitter buffer and decoder, because each
/// member's stream has its own sequence numbers, timing and losses, and into a listener that
/// says whether the voice decoded is that member's. Owned by the engine's actor.
final class GroupMemberListener {
    let member: String
    private var jitter = JitterBuffer()
    private let decoder: OpusDecoder
    private var listener: VoiceListener
    private let started: ContinuousClock.Instant
    /// The voice this member's device makes (signatures ignore a number's formatting: "+1555…" is "1555…").
    private let signature: VoiceSignature
    private(set) var received = 0
    private(set) var epoch: UInt16?
    /// False: frames are counted and dropped, never decoded (`GroupCallEngine.Options.decoded`).
    private let plays: Bool

    /// `candidates`: every voice this device may hear, so a frame of the wrong member (a
    /// server passing one off as another) is not counted as this member's.
    init(member: String, candidates: [String], started: ContinuousClock.Instant, plays: Bool = true) throws {
        self.member = member
        self.plays = plays
        decoder = try OpusDecoder()
        listener = VoiceListener(analyser: VoiceAnalyser(numbers: candidates))
        self.started = started
        signature = VoiceSignature(number: member)
    }

    /// One decrypted frame of this member's.
    func insert(_ packet: RTPPacket, opus: [UInt8], epoch: UInt16) {
        received += 1
        self.epoch = epoch
        _ = jitter.insert(
            JitterBuffer.Packet(
                sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                arrival: ContinuousClock.now - started, payload: opus))
    }

    /// Every 20 ms: the next frame (decoded, or recovered/concealed for a gap) to the listener.
    func playout() {
        guard plays else {
            _ = jitter.nextFrame()  // keeps the loss figures without decoding
            return
        }
        let samples: [Int16]?
        switch jitter.nextFrame() {
        case let .packet(payload): samples = try? decoder.decode(payload)
        case let .missing(next):
            if let next { samples = try? decoder.recoverWithFEC(nextPacket: next) } else { samples = try? decoder.concealLoss() }
        case .notReady: samples = nil
        }
        if let samples { listener.append(samples) }
    }

    func hearing() -> GroupCallHearing {
        let analysis = listener.report()
        return GroupCallHearing(
            member: member, heard: analysis.speaker == signature, level: analysis.level,
            epoch: epoch, received: received)
    }
}
