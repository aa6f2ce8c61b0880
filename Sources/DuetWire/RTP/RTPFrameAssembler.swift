/// A payload format whose frames span several packets (VP8, RFC 7741; SFrame per frame,
/// draft-ietf-avtcore-rtp-sframe): each packet's descriptor says how long it is and whether
/// the packet starts a frame; the marker bit ends one.
public protocol RTPFramedPayload: Sendable {
    associatedtype ParseError: Error
    /// The descriptor of one packet's payload.
    static func framing(of payload: [UInt8]) throws(ParseError) -> RTPFraming
    /// Whether a whole frame is a keyframe, when its bytes say (VP8); nil when they cannot
    /// (ciphertext: the sender's frame marking says instead).
    static func keyframe(_ frame: ArraySlice<UInt8>) -> Bool?
}

/// What a packet's payload descriptor says of the frame it carries.
public struct RTPFraming: Sendable, Equatable {
    /// The descriptor's length: the frame's bytes follow it.
    public var descriptorLength: Int
    public var startsFrame: Bool
    public var pictureID: UInt16?

    public init(descriptorLength: Int, startsFrame: Bool, pictureID: UInt16? = nil) {
        self.descriptorLength = descriptorLength
        self.startsFrame = startsFrame
        self.pictureID = pictureID
    }
}

/// A whole frame put back together from its packets, as the sender's encoder (or SFrame) made it.
public struct RTPAssembledFrame: Sendable, Equatable {
    public var bytes: [UInt8]
    public var timestamp: UInt32
    public var isKeyframe: Bool
    public var pictureID: UInt16?
    /// The sequence numbers it came in.
    public var firstSequence: UInt16
    public var lastSequence: UInt16
}

/// VP8 frames from their RTP packets (RFC 7741).
public typealias VP8FrameAssembler = RTPFrameAssembler<VP8Payload>

/// Puts frames back together from their RTP packets and hands them out in order: the packets
/// of one frame share a timestamp, the first is marked a start by its descriptor, the last
/// has the marker, and the sequence numbers between them are all there.
///
/// Up to `framesHeld` frames wait for packets at once, so a packet sent again after a NACK
/// (a round trip later) still completes its frame. A frame is handed out only when it follows
/// the last one handed out without a gap in sequence numbers — a whole frame lost leaves a gap
/// too — or when more than `framesHeld` frames wait behind a gap: then what is missing is
/// given up and counted, and the receiver asks for a keyframe.
///
/// Bounded: at most `framesHeld` + 1 frames, each of at most `maximumPackets` packets and
/// `maximumBytes` bytes (a frame growing past that is given up as it grows).
public struct RTPFrameAssembler<Format: RTPFramedPayload>: Sendable {
    public typealias Frame = RTPAssembledFrame

    public static var framesHeld: Int { 4 }
    /// A 640×480 keyframe is tens of kilobytes; these leave room for far more.
    public static var maximumPackets: Int { 256 }
    public static var maximumBytes: Int { 256 << 10 }

    private struct Partial {
        var pieces: [UInt16: ArraySlice<UInt8>] = [:]
        var bytes = 0
        var first: (sequence: UInt16, pictureID: UInt16?)?
        var last: UInt16?
        var oversized = false
        /// A packet's frame marking said the frame is independent (a keyframe).
        var independent = false
    }

    private var waiting: [UInt32: Partial] = [:]
    /// The last frame handed out (or given up): older packets are stragglers.
    private var previous: (timestamp: UInt32, lastSequence: UInt16?)?
    /// Frames given up: missing packets behind a gap, or over the bounds.
    public private(set) var framesDropped = 0

    public init() {}

    /// Takes one packet's payload; returns the frames now ready, oldest first. `independent`:
    /// the packet's frame marking says its frame is a keyframe (for formats whose bytes cannot).
    public mutating func add(
        sequence: UInt16, timestamp: UInt32, marker: Bool, payload: [UInt8], independent: Bool = false
    ) throws(Format.ParseError) -> [Frame] {
        let framing = try Format.framing(of: payload)
        if let previous, !Self.isNewer(timestamp, than: previous.timestamp) { return [] }
        var partial = waiting[timestamp] ?? Partial()
        if !partial.oversized {
            let piece = payload[min(framing.descriptorLength, payload.count)...]
            if partial.pieces[sequence] == nil { partial.bytes += piece.count }
            partial.pieces[sequence] = piece
            if framing.startsFrame { partial.first = (sequence, framing.pictureID) }
            if marker { partial.last = sequence }
            partial.independent = partial.independent || independent
            if partial.pieces.count > Self.maximumPackets || partial.bytes > Self.maximumBytes { partial = Partial(oversized: true) }
        }
        waiting[timestamp] = partial
        return release()
    }

    /// Takes one RTP packet (its frame marking, if any, saying whether its frame is a
    /// keyframe); with `outage`, gives up what is missing before it (`abandonGap`). Nil for a
    /// payload whose descriptor does not parse.
    public mutating func take(_ packet: RTPPacket, outage: Bool) -> [Frame]? {
        let marking: RTPFrameMarking? = try? packet.frameMarking()
        guard
            let frames = try? add(
                sequence: packet.sequenceNumber, timestamp: packet.timestamp, marker: packet.marker, payload: packet.payload,
                independent: marking?.independent ?? false)
        else { return nil }
        return frames + (outage ? abandonGap() : [])
    }

    /// Stops waiting for what is missing before the frames that wait (the receiver saw a gap too
    /// long to fill by NACK): it counts as one frame given up, and the first whole frame waiting
    /// comes out next. Returns the frames now ready.
    public mutating func abandonGap() -> [Frame] {
        guard let last = previous, last.lastSequence != nil else { return release() }
        previous = (last.timestamp, nil)
        framesDropped += 1
        return release()
    }

    /// Hands out what is ready in order, giving up the oldest while too many wait.
    private mutating func release() -> [Frame] {
        var ready: [Frame] = []
        while let oldest = waiting.keys.min(by: { Self.isNewer($1, than: $0) }) {
            let follows = previous?.lastSequence
            if let frame = whole(oldest), follows.map({ frame.firstSequence == $0 &+ 1 }) ?? true {
                ready.append(frame)
                waiting[oldest] = nil
                previous = (oldest, frame.lastSequence)
            } else if waiting.count > Self.framesHeld {
                // Behind a gap that did not fill: the oldest is given up if incomplete, and a
                // whole one after a lost frame is handed out all the same.
                if let frame = whole(oldest) {
                    ready.append(frame)
                    previous = (oldest, frame.lastSequence)
                } else {
                    previous = (oldest, nil)
                }
                framesDropped += 1
                waiting[oldest] = nil
            } else {
                break
            }
        }
        return ready
    }

    private func whole(_ timestamp: UInt32) -> Frame? {
        guard let partial = waiting[timestamp], !partial.oversized, let first = partial.first, let last = partial.last else { return nil }
        let count = Int(last &- first.sequence) + 1
        guard count <= partial.pieces.count else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(partial.bytes)
        for offset in 0..<count {
            guard let piece = partial.pieces[first.sequence &+ UInt16(offset)] else { return nil }
            bytes.append(contentsOf: piece)
        }
        return Frame(
            bytes: bytes, timestamp: timestamp, isKeyframe: Format.keyframe(bytes[...]) ?? partial.independent,
            pictureID: first.pictureID, firstSequence: first.sequence, lastSequence: last)
    }

    /// RTP timestamps wrap: `a` is newer when it is less than half the range ahead.
    static func isNewer(_ a: UInt32, than b: UInt32) -> Bool {
        a != b && Int32(bitPattern: a &- b) > 0
    }
}
