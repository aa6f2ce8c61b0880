/// How well one receiver's leg takes the video the room sends it, and so how many temporal
/// layers it is sent (docs/video.md "Group calls"): one weak receiver gets fewer pictures
/// without the senders lowering what everyone else gets.
///
/// Its loss is measured by the room itself each `window` (longer for a thin stream): the
/// packets the room sent it and it NACKed (answered from the room's own copies) against the
/// video packets sent to it — what its own leg lost before any repair. Receiver reports are
/// not used: their loss includes gaps from a sender's upload, which would lower every
/// receiver for one weak sender. The layers follow the loss as the 1:1 rate controller follows
/// it (docs/video.md "Sender"): above 10 % one layer fewer, below 2 % one more (at most one
/// step each window), between the two held. A receiver that lies only changes what it is sent
/// itself.
struct SFUDownlink {
    static let window = 1.0
    /// Fewer packets than this say little about loss: the window goes on, up to `longestWindow`.
    static let minimumPackets = 10
    static let longestWindow = 4.0
    static let lowerAbove = 0.10
    static let raiseBelow = 0.02

    private(set) var layers: UInt8 = 2
    private var windowStart: Double?
    /// Video packets sent to the receiver this window.
    var sent = 0
    private var asked = 0

    /// The highest temporal layer the receiver is to be sent at `now`: a window's loss may change it.
    mutating func layers(at now: Double) -> UInt8 {
        guard let start = windowStart else {
            windowStart = now
            return layers
        }
        let elapsed = now - start
        // A thin stream (the base layer of a small picture) is measured over a longer window.
        guard elapsed >= Self.window, sent >= Self.minimumPackets || elapsed >= Self.longestWindow else { return layers }
        let loss = sent > 0 ? Double(min(asked, sent)) / Double(sent) : 0
        if loss > Self.lowerAbove, layers > 0 {
            layers -= 1
        } else if loss < Self.raiseBelow, layers < 2 {
            layers += 1
        }
        (windowStart, sent, asked) = (now, 0, 0)
        return layers
    }

    /// The receiver NACKed `count` packets the room had sent it.
    mutating func asked(_ count: Int) { asked += count }
}
