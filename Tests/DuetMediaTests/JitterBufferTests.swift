import DuetMedia
import Testing

@Suite("Jitter buffer")
struct JitterBufferTests {
    typealias Packet = JitterBuffer.Packet

    /// Packet `sequence` sent at sequence × 20 ms (timestamp × 960), arriving at `arrivalMs`.
    static func packet(_ sequence: UInt16, arrivalMs: Int, base: UInt32 = 0) -> Packet {
        Packet(
            sequenceNumber: sequence, timestamp: base &+ UInt32(sequence) &* 960, arrival: .milliseconds(arrivalMs),
            payload: [UInt8(truncatingIfNeeded: sequence), 0xAB])
    }

    static func payload(_ sequence: UInt16) -> [UInt8] { [UInt8(truncatingIfNeeded: sequence), 0xAB] }

    @Test func waitsForItsTargetThenPlaysInOrder() {
        var buffer = JitterBuffer()
        #expect(buffer.nextFrame() == .notReady)
        for seq: UInt16 in 0..<3 { buffer.insert(Self.packet(seq, arrivalMs: Int(seq) * 20)) }
        #expect(buffer.nextFrame() == .packet(Self.payload(0)))
        #expect(buffer.nextFrame() == .packet(Self.payload(1)))
        #expect(buffer.nextFrame() == .packet(Self.payload(2)))
        #expect(buffer.nextFrame() == .notReady)
        #expect(buffer.statistics.played == 3)
        #expect(buffer.statistics.underruns == 1)
    }

    @Test func reordersPackets() {
        var buffer = JitterBuffer()
        for seq: UInt16 in [3, 1, 0, 2, 5, 4] { buffer.insert(Self.packet(seq, arrivalMs: 0)) }
        let played = (0..<6).map { _ in buffer.nextFrame() }
        #expect(played == (0..<6).map { .packet(Self.payload($0)) })
        #expect(buffer.statistics.received == 6)
        #expect(buffer.statistics.lost == 0)
    }

    @Test func dropsDuplicatesBeforeAndAfterPlaying() {
        var buffer = JitterBuffer()
        #expect(buffer.insert(Self.packet(7, arrivalMs: 0)) == .accepted)
        #expect(buffer.insert(Self.packet(7, arrivalMs: 1)) == .duplicate)
        #expect(buffer.insert(Self.packet(8, arrivalMs: 20)) == .accepted)
        #expect(buffer.nextFrame() == .packet(Self.payload(7)))
        #expect(buffer.insert(Self.packet(7, arrivalMs: 25)) == .duplicate)
        #expect(buffer.nextFrame() == .packet(Self.payload(8)))
        #expect(buffer.nextFrame() == .notReady)
        #expect(buffer.statistics.duplicates == 2)
        #expect(buffer.statistics.received == 2)
        #expect(buffer.statistics.played == 2)
    }

    @Test func reportsAGapWithTheNextPacketForFECThenDropsTheLateArrival() {
        var buffer = JitterBuffer()
        for seq: UInt16 in [0, 1, 3, 4] { buffer.insert(Self.packet(seq, arrivalMs: Int(seq) * 20)) }
        #expect(buffer.nextFrame() == .packet(Self.payload(0)))
        #expect(buffer.nextFrame() == .packet(Self.payload(1)))
        #expect(buffer.nextFrame() == .missing(nextPacketAvailable: Self.payload(3)))
        #expect(buffer.insert(Self.packet(2, arrivalMs: 95)) == .late)
        #expect(buffer.nextFrame() == .packet(Self.payload(3)))
        #expect(buffer.nextFrame() == .packet(Self.payload(4)))
        let stats = buffer.statistics
        #expect(stats.late == 1)
        #expect(stats.concealed == 1)
        #expect(stats.received == 5)
        #expect(stats.lost == 0, "the late packet did arrive; it was just too late to play")
    }

    @Test func aGapWithNothingAfterItYetConcealsWithoutFEC() {
        var buffer = JitterBuffer()
        for seq: UInt16 in [0, 2] { buffer.insert(Self.packet(seq, arrivalMs: 0)) }
        #expect(buffer.nextFrame() == .packet(Self.payload(0)))
        #expect(buffer.nextFrame() == .missing(nextPacketAvailable: Self.payload(2)))
        buffer.insert(Self.packet(5, arrivalMs: 60))
        #expect(buffer.nextFrame() == .packet(Self.payload(2)))
        #expect(buffer.nextFrame() == .missing(nextPacketAvailable: nil))
        #expect(buffer.nextFrame() == .missing(nextPacketAvailable: Self.payload(5)))
        #expect(buffer.statistics.lost == 3)
    }

    @Test func aFloodFarAheadIsCaughtUpAtOnce() {
        var buffer = JitterBuffer()
        for seq: UInt16 in 0..<3 { buffer.insert(Self.packet(seq, arrivalMs: Int(seq) * 20)) }
        #expect(buffer.nextFrame() == .packet(Self.payload(0)))
        // The sender raced 20 s ahead (or the network held 20 s of packets and let them go).
        for seq: UInt16 in 1000..<1004 { buffer.insert(Self.packet(seq, arrivalMs: 60)) }
        #expect(buffer.nextFrame() == .packet(Self.payload(1000)))
        #expect(buffer.nextFrame() == .packet(Self.payload(1001)))
        #expect(buffer.currentDepth <= .milliseconds(200))
        #expect(buffer.statistics.skipped == 2)
    }

    @Test func followsSequenceNumbersAcrossTheWrap() {
        var buffer = JitterBuffer()
        let sequences: [UInt16] = [65533, 65535, 65534, 0, 2, 1]
        for (i, seq) in sequences.enumerated() {
            buffer.insert(
                Packet(
                    sequenceNumber: seq, timestamp: UInt32.max &- 2000 &+ UInt32(i) &* 960, arrival: .milliseconds(i * 20),
                    payload: Self.payload(seq)))
        }
        let played = (0..<6).map { _ in buffer.nextFrame() }
        #expect(played == [65533, 65534, 65535, 0, 1, 2].map { .packet(Self.payload($0)) })
        #expect(buffer.statistics.lost == 0)
    }

    /// RFC 3550 §6.4.1 worked by hand for arrivals at 0, 20, 45, 60, 80, 110 ms (sent every
    /// 20 ms): |D| = 0, 240, 240, 0, 480 timestamp units, J = 0, 15, 29.0625, 27.2461, 55.5432.
    @Test func interarrivalJitterFollowsRFC3550() {
        var buffer = JitterBuffer()
        for (seq, ms) in [0, 20, 45, 60, 80, 110].enumerated() {
            buffer.insert(Self.packet(UInt16(seq), arrivalMs: ms, base: 123_456))
        }
        let stats = buffer.statistics
        #expect(stats.jitterTimestampUnits == 56)
        #expect(abs(stats.jitterMilliseconds - 55.543212890625 / 48) < 1e-9)
    }

    @Test func jitterIsMeasuredInArrivalOrderAcrossTimestampWrap() {
        var buffer = JitterBuffer()
        // Perfectly paced packets whose timestamps wrap: no jitter at all.
        for seq: UInt16 in 0..<10 { buffer.insert(Self.packet(seq, arrivalMs: Int(seq) * 20, base: UInt32.max - 3000)) }
        #expect(buffer.statistics.jitterTimestampUnits == 0)
    }

    @Test func depthGrowsUnderJitterAndShrinksWhenTheNetworkCalms() {
        var random = SeededRandom(seed: 42)
        var network = JitterSimulation()
        for seq in 0..<600 {  // 12 s of 0–80 ms random delay
            network.send(seq, delayMs: Int.random(in: 0...80, using: &random))
        }
        for seq in 600..<1500 {  // then 18 s of a steady 10 ms
            network.send(seq, delayMs: 10)
        }
        var buffer = JitterBuffer()
        let startDepth = buffer.targetDepth
        var peakTarget = Duration.zero
        var lateDuringJitter = 0
        network.play(through: &buffer, untilMs: 30_000) { timeMs, buffer in
            if timeMs < 12_000 { peakTarget = max(peakTarget, buffer.targetDepth) }
            if timeMs == 12_000 { lateDuringJitter = buffer.statistics.late }
        }
        #expect(startDepth == .milliseconds(20))
        #expect(peakTarget >= .milliseconds(80), "target only reached \(peakTarget)")
        #expect(peakTarget <= .milliseconds(200))
        // Once adapted, the buffer absorbs the jitter: few packets arrive too late.
        #expect(lateDuringJitter < 60, "\(lateDuringJitter) late of 600")
        #expect(buffer.targetDepth <= .milliseconds(40), "target stayed at \(buffer.targetDepth)")
        #expect(buffer.currentDepth <= .milliseconds(60), "depth stayed at \(buffer.currentDepth)")
        #expect(buffer.statistics.skipped > 0)
        #expect(buffer.statistics.jitterMilliseconds < 1)
    }

    @Test func targetNeverExceedsTheMaximum() {
        var random = SeededRandom(seed: 9)
        var network = JitterSimulation()
        for seq in 0..<500 { network.send(seq, delayMs: Int.random(in: 0...600, using: &random)) }
        var buffer = JitterBuffer()
        var peak = Duration.zero
        network.play(through: &buffer, untilMs: 11_000) { _, buffer in peak = max(peak, buffer.targetDepth) }
        #expect(peak == .milliseconds(200))
    }
}

/// A simulated network: packets sent every 20 ms with a chosen delay (so reordering happens
/// whenever a delay drops faster than 20 ms per packet), and a playout pulling every 20 ms.
struct JitterSimulation {
    private(set) var arrivals: [JitterBuffer.Packet] = []
    private(set) var payloads: [Int: [UInt8]] = [:]

    mutating func send(_ sequence: Int, delayMs: Int, payload: [UInt8]? = nil) {
        let bytes = payload ?? [UInt8(truncatingIfNeeded: sequence), UInt8(truncatingIfNeeded: sequence >> 8)]
        payloads[sequence] = bytes
        arrivals.append(
            JitterBuffer.Packet(
                sequenceNumber: UInt16(truncatingIfNeeded: sequence), timestamp: UInt32(truncatingIfNeeded: sequence * 960),
                arrival: .milliseconds(sequence * 20 + delayMs), payload: bytes))
    }

    /// Inserts each packet when it arrives and pulls a frame every 20 ms, calling `observe`
    /// after each pull; returns the frames pulled.
    @discardableResult
    func play(through buffer: inout JitterBuffer, untilMs end: Int, observe: (Int, JitterBuffer) -> Void = { _, _ in }) -> [JitterBuffer
        .Frame]
    {
        let ordered = arrivals.enumerated().sorted { ($0.element.arrival, $0.offset) < ($1.element.arrival, $1.offset) }.map(\.element)
        var next = 0
        var frames: [JitterBuffer.Frame] = []
        for timeMs in stride(from: 0, through: end, by: 20) {
            while next < ordered.count, ordered[next].arrival <= .milliseconds(timeMs) {
                buffer.insert(ordered[next])
                next += 1
            }
            frames.append(buffer.nextFrame())
            observe(timeMs, buffer)
        }
        return frames
    }
}
