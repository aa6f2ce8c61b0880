/// The sender's last `capacity` RTP packets (before SRTP), by sequence number, so a packet a
/// receiver NACKs can be sent again — once: a second NACK for it is refused, so a receiver
/// cannot make the sender repeat a packet without end. Fixed memory: a slot per sequence
/// number modulo the capacity, overwritten as the stream goes on.
public struct RetransmissionBuffer: Sendable {
    public let capacity: Int
    private var slots: [(sequence: UInt16, packet: [UInt8], resent: Bool)?]

    public init(capacity: Int = 512) {
        precondition(capacity > 0 && capacity <= 32_768)
        self.capacity = capacity
        slots = Array(repeating: nil, count: capacity)
    }

    public mutating func store(_ packet: [UInt8], sequence: UInt16) {
        slots[Int(sequence) % capacity] = (sequence, packet, false)
    }

    /// The packet to send again for `sequence`: nil when it has left the buffer or was sent
    /// again already.
    public mutating func resend(_ sequence: UInt16) -> [UInt8]? {
        let index = Int(sequence) % capacity
        guard let slot = slots[index], slot.sequence == sequence, !slot.resent else { return nil }
        slots[index]?.resent = true
        return slot.packet
    }
}
