import DuetMedia
import DuetWire

/// What the SFU keeps of one member's video stream (docs/video.md "Group calls"): for each
/// receiver, the last `capacity` packets exactly as they went to it (protected for its leg), to
/// answer its NACK by sending those very bytes again — never protecting anything twice under
/// one SRTP index — a few times at most (`RetransmissionBuffer`), so no receiver can make it
/// repeat without end; and when it last passed a PLI to the sender, so receivers asking at once
/// cost the sender one keyframe (at most one per `pictureLossInterval`).
///
/// Fixed memory: per receiver a slot per sequence number modulo the capacity, overwritten as
/// the stream goes on.
struct SFUVideoStream {
    /// About two seconds of a 160×120 stream, four times a NACK's round trip and more.
    static let capacity = 64
    static let pictureLossInterval = 0.5

    private var sent: [TransportAddress: RetransmissionBuffer] = [:]
    private var lastPictureLoss: Double?

    /// The packet of `sequence` as it was protected for `receiver` and sent.
    mutating func keep(_ bytes: [UInt8], sequence: UInt16, for receiver: TransportAddress) {
        sent[receiver, default: RetransmissionBuffer(capacity: Self.capacity)].store(bytes, sequence: sequence)
    }

    /// The bytes to send `receiver` again for a packet it lost: nil when they left the cache, or
    /// were sent again as often as a packet is.
    mutating func answer(_ sequence: UInt16, for receiver: TransportAddress) -> [UInt8]? {
        sent[receiver]?.resend(sequence)
    }

    /// A receiver gone: what was kept for it goes too.
    mutating func forget(_ receiver: TransportAddress) { sent[receiver] = nil }

    /// Whether a PLI asked for at `now` goes on to the sender (not within the interval of the last).
    mutating func passesPictureLoss(at now: Double) -> Bool {
        guard lastPictureLoss.map({ now - $0 >= Self.pictureLossInterval }) ?? true else { return false }
        lastPictureLoss = now
        return true
    }
}
