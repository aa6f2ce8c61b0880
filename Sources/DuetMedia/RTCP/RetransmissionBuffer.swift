/// The sender's last `capacity` RTP packets (after SRTP), by sequence number, so a packet a
/// receiver NACKs can be sent again — at most `maximumResends` times: a receiver whose NACK or
/// resend was lost asks again, but no receiver can make the sender repeat a packet without
/// end (its stream costs at most that many times its size). Fixed memory: a slot per sequence
/// number modulo the capacity, overwritten as the stream goes on.
public struct RetransmissionBuffer: Sendable {
    /// Three rounds: at 5 % loss each way a packet is then lost for good about once in 10⁶.
    public static let maximumResends = 3

    public let capacity: Int
    private var slots: [(sequence: UInt16, packet: [UInt8], resends: Int)?]

    public init(capacity: Int = 512) {
        precondition(capacity > 0 && capacity <= 32_768)
        self.capacity = capacity
        slots = Array(repeating: nil, count: capacity)
    }

    public mutating func store(_ packet: [UInt8], sequence: UInt16) {
        slots[Int(sequence) % capacity] = (sequence, packet, 0)
    }

    /// The packet to send again for `sequence`: nil when it has left the buffer or was sent
    /// again `maximumResends` times already.
    public mutating func resend(_ sequence: UInt16) -> [UInt8]? {
        let index = Int(sequence) % capacity
        guard let slot = slots[index], slot.sequence == sequence, slot.resends < Self.maximumResends else { return nil }
        slots[index]?.resends += 1
        return slot.packet
    }
}
