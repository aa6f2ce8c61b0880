import DuetWire
import Testing

@testable import DuetServer

/// The SFU's per-receiver choice of temporal layers, alone: what a receiver gets is whole
/// frames of the layers it takes, numbered without gaps, and its NACKs map back.
@Suite("SFU layer filter")
struct SFULayerFilterTests {
    /// L1T3's frames as packets: frame `i` of layer `[0, 2, 1, 2][i % 4]`, two packets each,
    /// frame 0 a keyframe. Sequence numbers start near the wrap.
    static func packets(frames: Range<Int>, start: UInt16 = 65_530) -> [(sequence: UInt16, marking: RTPFrameMarking)] {
        frames.flatMap { frame -> [(UInt16, RTPFrameMarking)] in
            let layer: UInt8 = frame == 0 ? 0 : [0, 2, 1, 2][frame % 4]
            return (0..<2).map { part in
                let marking = RTPFrameMarking(
                    startOfFrame: part == 0, endOfFrame: part == 1, independent: frame == 0, discardable: layer == 2,
                    baseLayerSync: layer == 1, temporalLayer: layer)
                return (start &+ UInt16(frame * 2 + part), marking)
            }
        }
    }

    @Test func aReceiverTakingLayersZeroAndOneGetsThemWithoutGapsAndItsNACKsMapBack() {
        var filter = SFULayerFilter()
        var got: [(sent: UInt16, as: UInt16, layer: UInt8)] = []
        for (sequence, marking) in Self.packets(frames: 0..<12) {
            if let out = filter.take(sequence, marking: marking, target: 1) { got.append((sequence, out, marking.temporalLayer)) }
        }
        #expect(got.allSatisfy { $0.layer <= 1 } && got.count == 2 * 6)
        #expect(got.map(\.as) == (0..<12).map { 65_530 &+ UInt16($0) }, "numbered on from the first without a gap")
        for packet in got { #expect(filter.senderSequence(of: packet.as) == packet.sent) }
        // The same stream to a receiver taking everything: untouched.
        var all = SFULayerFilter()
        #expect(Self.packets(frames: 0..<12).allSatisfy { all.take($0.sequence, marking: $0.marking, target: 2) == $0.sequence })
        #expect(all.passesEverything)
    }

    /// Down at once; up one layer at a time, where the layer's references are whole.
    @Test func layersChangeOnlyWhereTheReceiverCanDecode() {
        var filter = SFULayerFilter()
        var taken: [UInt8] = []
        for (index, (sequence, marking)) in Self.packets(frames: 0..<16).enumerated() {
            // Frames 0–3 at all layers, 4–7 base only, then all again.
            let target: UInt8 = (8..<16).contains(index) ? 0 : 2
            if filter.take(sequence, marking: marking, target: target) != nil, marking.startOfFrame { taken.append(marking.temporalLayer) }
        }
        // Frames 4–7 (0 2 1 2) give 0 only; at frame 8 the target is 2 again, but layer 2 waits
        // for a layer-1 frame (frame 10) to make GOLDEN whole: frame 9 (layer 2) is not sent.
        #expect(taken == [0, 2, 1, 2, 0, 0, 1, 2, 0, 2, 1, 2])
    }

    /// A packet lost before the SFU and sent again later fills its place; a late copy of a
    /// dropped packet is not sent.
    @Test func latePacketsTakeTheirPlaceAndDroppedOnesStayDropped() {
        var filter = SFULayerFilter()
        let packets = Self.packets(frames: 0..<8)
        var numbered: [UInt16: UInt16] = [:]
        for (sequence, marking) in packets where sequence != packets[4].sequence {
            numbered[sequence] = filter.take(sequence, marking: marking, target: 1)
        }
        // Packet 4 (frame 2, layer 1) came late: between frame 0's and frame 4's, as if never dropped.
        let late = filter.take(packets[4].sequence, marking: packets[4].marking, target: 1)
        #expect(late == numbered[packets[1].sequence]! &+ 1)
        #expect(numbered[packets[5].sequence] == late! &+ 1)
        // Frame 1 (layer 2) was dropped: a resend of it is dropped too.
        #expect(filter.take(packets[2].sequence, marking: packets[2].marking, target: 1) == nil)
    }

    /// Bounded: after more drops than it remembers, what is older cannot be numbered or mapped.
    @Test func theHistoryIsBounded() {
        var filter = SFULayerFilter()
        let packets = Self.packets(frames: 0..<(SFULayerFilter.history + 20), start: 100)
        for (sequence, marking) in packets { _ = filter.take(sequence, marking: marking, target: 0) }
        #expect(filter.take(packets[0].sequence, marking: packets[0].marking, target: 0) == nil)
        #expect(filter.senderSequence(of: 100) == nil)
    }

    /// Long after a weak spell (more than half the sequence space of packets), NACKs still map
    /// back and late packets still take their place: old drops are folded into the numbering,
    /// never compared across the wrap.
    @Test func theNumberingHoldsLongAfterTheLastDrop() {
        var filter = SFULayerFilter()
        let weak = Self.packets(frames: 0..<8, start: 100)
        var numbered: [(sent: UInt16, as: UInt16)] = []
        for (sequence, marking) in weak {
            if let out = filter.take(sequence, marking: marking, target: 0) { numbered.append((sequence, out)) }
        }
        // 40,000 packets at every layer, one frame a packet, the wrap crossed.
        var sequence: UInt16 = 116
        for index in 0..<40_000 {
            let marking = RTPFrameMarking(
                startOfFrame: true, endOfFrame: true, independent: index == 0, discardable: false, baseLayerSync: false, temporalLayer: 0)
            if let out = filter.take(sequence, marking: marking, target: 2) { numbered.append((sequence, out)) }
            sequence &+= 1
        }
        let recent = numbered.suffix(100)
        #expect(recent.allSatisfy { filter.senderSequence(of: $0.as) == $0.sent })
        // A packet lost before the SFU, 50 back, still fills its own place.
        let missing = recent[recent.startIndex + 50]
        #expect(filter.take(missing.sent, marking: nil, target: 2) == missing.as)
    }

    /// A late packet of a layer the receiver is not sent now is not sent either.
    @Test func aLatePacketOfALayerNotSentNowIsDropped() {
        var filter = SFULayerFilter()
        let packets = Self.packets(frames: 0..<8)
        for (sequence, marking) in packets where sequence != packets[6].sequence { _ = filter.take(sequence, marking: marking, target: 2) }
        for (sequence, marking) in Self.packets(frames: 8..<12, start: 65_530 &+ 16) {
            _ = filter.take(sequence, marking: marking, target: 0)
        }
        // Packet 6 (frame 3, layer 2) comes late, after the receiver went down to layer 0.
        #expect(filter.take(packets[6].sequence, marking: packets[6].marking, target: 0) == nil)
    }
}
