import DuetWire

/// What the SFU keeps of one member's video stream (docs/video.md "Group calls"): its last
/// `capacity` packets as forwarded (RTP after the hop's SRTP, the payload still SFrame
/// ciphertext), to answer a receiver's NACK itself — once per receiver and packet, so no
/// receiver can make it repeat without end — and when it last passed a PLI to the sender, so
/// receivers asking at once cost the sender one keyframe (at most one per `pictureLossInterval`).
///
/// Fixed memory: a slot per sequence number modulo the capacity, overwritten as the stream goes on.
struct SFUVideoStream {
    static let capacity = 256
    static let pictureLossInterval = 0.5

    private var slots: [(sequence: UInt16, packet: [UInt8], answered: [TransportAddress])?] = Array(repeating: nil, count: capacity)
    private var lastPictureLoss: Double?

    mutating func keep(_ packet: [UInt8], sequence: UInt16) {
        slots[Int(sequence) % Self.capacity] = (sequence, packet, [])
    }

    /// The packet `receiver` lost, to send it again: nil when it left the cache, or this
    /// receiver had it sent again already.
    mutating func answer(_ sequence: UInt16, for receiver: TransportAddress) -> [UInt8]? {
        let index = Int(sequence) % Self.capacity
        guard let slot = slots[index], slot.sequence == sequence, !slot.answered.contains(receiver) else { return nil }
        slots[index]?.answered.append(receiver)
        return slot.packet
    }

    /// Whether a PLI asked for at `now` goes on to the sender (not within the interval of the last).
    mutating func passesPictureLoss(at now: Double) -> Bool {
        guard lastPictureLoss.map({ now - $0 >= Self.pictureLossInterval }) ?? true else { return false }
        lastPictureLoss = now
        return true
    }
}
