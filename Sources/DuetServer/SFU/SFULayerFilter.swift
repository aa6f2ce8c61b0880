import DuetWire

/// Which temporal layers of one member's video (VP8 L1T3, read from the RFC 9626 frame marking
/// in the clear) reach one receiver, and under which sequence numbers (docs/video.md "Group
/// calls"). Dropped frames leave no gap in what the receiver sees — its assembler would wait
/// for the missing packets and ask for a keyframe — so later packets are renumbered, and a
/// receiver's NACK is mapped back to the sender's numbers.
///
/// The layers forwarded follow `target` at frame starts: down at once (dropping a layer breaks
/// no reference the remaining ones use); up one layer at a time, to layer 1 at a layer-1 frame
/// (it refers only to layer 0), to layer 2 once a layer-1 frame was forwarded since the last
/// one dropped (layer 2 refers to both), and to any target at a keyframe.
///
/// Fixed memory: the last `history` dropped sequence numbers, none more than `reach` behind
/// the newest packet (sequence numbers compare within half their space, so older ones would
/// compare wrongly); packets older than what they cover come too late to be numbered and are
/// dropped.
struct SFULayerFilter {
    static let history = 256
    /// How far behind the newest packet a packet or a drop is still placed: a quarter of the
    /// sequence space, about 18 minutes of a 15 fps stream — far beyond any repair.
    static let reach: UInt16 = 0x4000

    /// The highest layer forwarded now.
    private(set) var layers: UInt8
    /// Whether the receiver's GOLDEN reference (what layer 1 updates) is the sender's.
    private var goldenWhole = true
    /// The sender's sequence numbers dropped lately, oldest first.
    private var dropped: [UInt16] = []
    /// Drops older than `dropped` holds: the renumbering's base.
    private var base: UInt16 = 0
    /// The last drop folded into `base`: a packet not after it cannot be numbered any more.
    private var horizon: UInt16?
    private var highest: UInt16?

    init(layers: UInt8 = 2) { self.layers = layers }

    /// Whether this receiver is sent everything as it came (no renumbering in force).
    var passesEverything: Bool { dropped.isEmpty && base == 0 && layers == 2 }

    /// The sequence number under which the receiver gets the packet `sequence`, or nil to drop
    /// it. `marking`: the packet's frame marking (none: a layer-0 packet).
    mutating func take(_ sequence: UInt16, marking: RTPFrameMarking?, target: UInt8) -> UInt16? {
        let layer = marking?.temporalLayer ?? 0
        guard let last = highest, Self.precedes(last, sequence) else {
            guard highest != nil else { return first(sequence, marking: marking, target: target) }
            return late(sequence, layer: layer)
        }
        highest = sequence
        while let oldest = dropped.first, sequence &- oldest > Self.reach { fold(dropped.removeFirst()) }
        if let horizon, sequence &- horizon > Self.reach { self.horizon = nil }
        if let marking, marking.startOfFrame { follow(target, at: marking) }
        guard layer <= layers else {
            drop(sequence, layer: layer)
            return nil
        }
        if layer == 1 || marking?.independent == true { goldenWhole = true }
        return sequence &- base &- UInt16(dropped.count)
    }

    /// The sender's sequence number of the packet the receiver knows as `sequence` (a NACK's),
    /// nil when it is older than the numbering remembers.
    func senderSequence(of sequence: UInt16) -> UInt16? {
        var candidate = sequence &+ base
        for drop in dropped where !Self.precedes(candidate, drop) { candidate &+= 1 }
        if let horizon, !Self.precedes(horizon, candidate) { return nil }
        if let highest, Self.precedes(candidate, highest), highest &- candidate > Self.reach { return nil }
        return candidate
    }

    private mutating func first(_ sequence: UInt16, marking: RTPFrameMarking?, target: UInt8) -> UInt16? {
        highest = sequence
        layers = target
        guard (marking?.temporalLayer ?? 0) <= layers else {
            drop(sequence, layer: marking?.temporalLayer ?? 0)
            return nil
        }
        return sequence
    }

    /// A packet older than the newest: numbered as its place says, unless it was dropped, is of
    /// a layer not sent now, or is older than the numbering remembers.
    private func late(_ sequence: UInt16, layer: UInt8) -> UInt16? {
        guard layer <= layers, let highest, highest &- sequence <= Self.reach else { return nil }
        if let horizon, !Self.precedes(horizon, sequence) { return nil }
        guard !dropped.contains(sequence) else { return nil }
        let before = dropped.count { Self.precedes($0, sequence) }
        return sequence &- base &- UInt16(before)
    }

    private mutating func follow(_ target: UInt8, at marking: RTPFrameMarking) {
        if marking.independent {
            (layers, goldenWhole) = (target, true)
        } else if target < layers {
            layers = target
        } else if target > layers {
            if layers == 0, marking.temporalLayer == 1, marking.baseLayerSync {
                layers = 1
            } else if layers == 1, goldenWhole {
                layers = 2
            }
        }
    }

    private mutating func drop(_ sequence: UInt16, layer: UInt8) {
        if layer == 1 { goldenWhole = false }
        dropped.append(sequence)
        if dropped.count > Self.history { fold(dropped.removeFirst()) }
    }

    /// A drop no longer remembered one by one: counted in the base, and packets before it
    /// can no longer be placed.
    private mutating func fold(_ drop: UInt16) {
        horizon = drop
        base &+= 1
    }

    /// `a` comes before `b` in sequence-number order (RFC 3550's wrap: within half the space).
    static func precedes(_ a: UInt16, _ b: UInt16) -> Bool {
        let ahead = b &- a
        return ahead != 0 && ahead < 0x8000
    }
}
