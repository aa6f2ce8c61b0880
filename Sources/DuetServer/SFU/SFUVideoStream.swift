import DuetMedia
import DuetWire

/// What the SFU keeps of one member's video stream (docs/video.md "Group calls"), per receiver:
/// the temporal layers it is sent and the sequence numbers it sees (`SFULayerFilter`); the last
/// `capacity` packets exactly as they went to it (protected for its leg), to answer its NACK by
/// sending those very bytes again — never protecting anything twice under one SRTP index — a
/// few times at most (`RetransmissionBuffer`), so no receiver can make it repeat without end;
/// and when its last PLI went on. A PLI goes on to the sender at most one per
/// `pictureLossInterval` for the stream, and one per `requesterInterval` from any one
/// receiver: receivers asking at once cost the sender one keyframe, and no member can make a
/// sender encode keyframes for everyone more often than that.
///
/// Fixed memory: per receiver a slot per sequence number modulo the capacity, overwritten as
/// the stream goes on, and the filter's bounded history.
struct SFUVideoStream {
    /// About two seconds of a 160×120 stream, four times a NACK's round trip and more.
    static let capacity = 64
    static let pictureLossInterval = 0.5
    /// A receiver that lost its picture waits at most this long for the keyframe it asks for;
    /// a member asking for ever costs each sender one keyframe a second (at 160×120 about
    /// 30 kbit/s more).
    static let requesterInterval = 1.0

    private struct Receiver {
        var sent = RetransmissionBuffer(capacity: SFUVideoStream.capacity)
        var filter = SFULayerFilter()
        var lastPictureLoss: Double?
    }

    private var receivers: [TransportAddress: Receiver] = [:]
    private var lastPictureLoss: Double?

    /// The sequence number under which `receiver` gets the sender's packet `sequence`, nil when
    /// its layer is not sent to it (`layers`: the most its leg takes, `SFUDownlink`).
    mutating func sequence(
        of sequence: UInt16, marking: RTPFrameMarking?, for receiver: TransportAddress, layers: UInt8
    ) -> UInt16? {
        receivers[receiver, default: Receiver()].filter.take(sequence, marking: marking, target: layers)
    }

    /// The packet the receiver knows as `sequence`, as it was protected for it and sent.
    mutating func keep(_ bytes: [UInt8], sequence: UInt16, for receiver: TransportAddress) {
        receivers[receiver, default: Receiver()].sent.store(bytes, sequence: sequence)
    }

    /// The bytes to send `receiver` again for a packet it lost: nil when they left the cache, or
    /// were sent again as often as a packet is.
    mutating func answer(_ sequence: UInt16, for receiver: TransportAddress) -> [UInt8]? {
        receivers[receiver]?.sent.resend(sequence)
    }

    /// The sender's number of the packet `receiver` knows as `sequence`, to ask the sender for
    /// it; nil when the renumbering no longer reaches back that far.
    func senderSequence(of sequence: UInt16, for receiver: TransportAddress) -> UInt16? {
        guard let filter = receivers[receiver]?.filter else { return sequence }
        return filter.senderSequence(of: sequence)
    }

    /// The highest layer `receiver` is sent now (2: all of them).
    func layers(for receiver: TransportAddress) -> UInt8 { receivers[receiver]?.filter.layers ?? 2 }

    /// A receiver gone: what was kept for it goes too.
    mutating func forget(_ receiver: TransportAddress) { receivers[receiver] = nil }

    /// Whether a PLI from `requester` (nil: the room, on a newcomer's behalf) at `now` goes on
    /// to the sender.
    mutating func passesPictureLoss(from requester: TransportAddress?, at now: Double) -> Bool {
        guard lastPictureLoss.map({ now - $0 >= Self.pictureLossInterval }) ?? true else { return false }
        if let requester {
            guard receivers[requester]?.lastPictureLoss.map({ now - $0 >= Self.requesterInterval }) ?? true else { return false }
            receivers[requester, default: Receiver()].lastPictureLoss = now
        }
        lastPictureLoss = now
        return true
    }
}
