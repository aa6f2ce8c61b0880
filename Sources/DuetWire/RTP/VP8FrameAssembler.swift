/// Puts VP8 frames back together from their RTP packets (RFC 7741): the packets of one frame
/// share a timestamp, the first has S set with partition 0, the last has the marker, and the
/// sequence numbers between them are all there. Packets may arrive out of order within a
/// frame; a frame still missing a packet when the next frame's packets come is given up and
/// counted (the receiver then asks for it again or for a keyframe).
///
/// Bounded: a frame of more than `maximumPackets` packets or `maximumBytes` bytes is given
/// up as it grows, so a sender cannot make the receiver hold more.
public struct VP8FrameAssembler: Sendable {
    /// A whole frame, as the encoder made it.
    public struct Frame: Sendable, Equatable {
        public var bytes: [UInt8]
        public var timestamp: UInt32
        public var isKeyframe: Bool
        public var pictureID: UInt16?
        /// The sequence numbers it came in.
        public var firstSequence: UInt16
        public var lastSequence: UInt16
    }

    public static let maximumPackets = 1024
    public static let maximumBytes = 1 << 20

    private var timestamp: UInt32?
    private var pieces: [UInt16: ArraySlice<UInt8>] = [:]
    private var bytes = 0
    private var first: (sequence: UInt16, pictureID: UInt16?)?
    private var last: UInt16?
    /// Set once the current timestamp's frame is done with: its other packets are ignored.
    private var closed: Closed?
    private enum Closed { case completed, abandoned }
    /// Frames given up: incomplete when the next began, or over the bounds.
    public private(set) var framesDropped = 0

    public init() {}

    /// Takes one packet's payload; returns the frame it completed, if any.
    public mutating func add(sequence: UInt16, timestamp: UInt32, marker: Bool, payload: [UInt8]) throws(VP8Payload.ParseError) -> Frame? {
        let descriptor = try VP8Payload.descriptor(of: payload)
        if let current = self.timestamp, current != timestamp {
            // An older frame's straggler changes nothing; a newer frame ends the current one.
            guard Int32(bitPattern: timestamp &- current) > 0 else { return nil }
            if closed == .abandoned || (closed == nil && !pieces.isEmpty) { framesDropped += 1 }
            reset()
        }
        self.timestamp = timestamp
        guard closed == nil else { return nil }
        let piece = payload[descriptor.count...]
        if pieces[sequence] == nil { bytes += piece.count }
        pieces[sequence] = piece
        if descriptor.startOfPartition && descriptor.partition == 0 { first = (sequence, descriptor.pictureID) }
        if marker { last = sequence }
        guard pieces.count <= Self.maximumPackets, bytes <= Self.maximumBytes else {
            reset()
            closed = .abandoned
            return nil
        }
        return complete()
    }

    private mutating func complete() -> Frame? {
        guard let first, let last, let timestamp else { return nil }
        let count = Int(last &- first.sequence) + 1
        guard count <= pieces.count, count <= Self.maximumPackets else { return nil }
        var frame: [UInt8] = []
        frame.reserveCapacity(bytes)
        for offset in 0..<count {
            guard let piece = pieces[first.sequence &+ UInt16(offset)] else { return nil }
            frame.append(contentsOf: piece)
        }
        reset()
        // Done with this timestamp: its stragglers must not start it again.
        closed = .completed
        return Frame(
            bytes: frame, timestamp: timestamp, isKeyframe: VP8Payload.isKeyframe(frame[...]), pictureID: first.pictureID,
            firstSequence: first.sequence, lastSequence: last)
    }

    private mutating func reset() {
        pieces = [:]
        bytes = 0
        first = nil
        last = nil
        closed = nil
    }
}
