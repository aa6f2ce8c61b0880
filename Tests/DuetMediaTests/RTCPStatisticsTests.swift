import DuetWire
import Testing

@testable import DuetMedia

/// What goes into and comes out of RTCP at each end: a receiver's report block (RFC 3550
/// A.1/A.3/A.8), the sender's buffer of packets to send again on a NACK, and the loss-based
/// bitrate.
@Suite("RTCP statistics, retransmission and rate")
struct RTCPStatisticsTests {
    @Test func aReportCountsLossPerIntervalAndInAll() {
        var stats = ReceptionStatistics(source: 7, clockRate: 90_000)
        for sequence in UInt16(0)..<100 where sequence % 10 != 5 {
            stats.record(sequence: sequence, timestamp: UInt32(sequence) * 6000, arrival: Double(sequence) / 15)
        }
        let first = stats.report(at: 7)
        #expect(first.highestSequence == 99 && first.cumulativeLost == 10)
        #expect(first.fractionLost == UInt8(10 * 256 / 100))
        #expect(first.jitter == 0, "packets as regular as their timestamps have no jitter")
        for sequence in UInt16(100)..<150 {
            stats.record(sequence: sequence, timestamp: UInt32(sequence) * 6000, arrival: Double(sequence) / 15)
        }
        let second = stats.report(at: 10)
        #expect(second.fractionLost == 0 && second.cumulativeLost == 10 && second.highestSequence == 149)
    }

    @Test func sequenceNumbersWrapIntoCyclesAndAStrayJumpIsIgnoredOnce() {
        var stats = ReceptionStatistics(source: 7, clockRate: 48_000)
        for offset in 0..<20 {
            stats.record(sequence: 65_530 &+ UInt16(offset), timestamp: UInt32(offset) * 960, arrival: Double(offset) * 0.02)
        }
        #expect(stats.report(at: 1).highestSequence == 1 << 16 | 13)
        // One packet far ahead: ignored. The same far place twice: the sender started over.
        stats.record(sequence: 30_000, timestamp: 0, arrival: 1)
        #expect(stats.report(at: 1).highestSequence == 1 << 16 | 13)
        stats.record(sequence: 40_000, timestamp: 0, arrival: 1)
        stats.record(sequence: 40_001, timestamp: 960, arrival: 1.02)
        let restarted = stats.report(at: 2)
        #expect(restarted.highestSequence == 40_001 && restarted.cumulativeLost == 0)
    }

    @Test func jitterGrowsWithIrregularArrivalAndTheSenderReportIsEchoed() {
        var stats = ReceptionStatistics(source: 9, clockRate: 48_000)
        for sequence in UInt16(0)..<200 {
            let late = sequence % 2 == 0 ? 0.0 : 0.010
            stats.record(sequence: sequence, timestamp: UInt32(sequence) * 960, arrival: Double(sequence) * 0.02 + late)
        }
        stats.senderReported(ntpTime: 0x0001_2345_6789_0000, arrival: 4)
        let block = stats.report(at: 4.5)
        // Every packet 10 ms off the last: the running estimate settles near 480 units.
        #expect((400...480).contains(block.jitter), "\(block.jitter)")
        #expect(block.lastSenderReport == 0x2345_6789)
        #expect(block.delaySinceLastSenderReport == 32_768)
    }

    @Test func aNackedPacketIsSentAgainAFewTimesAndOnlyWhileItIsHeld() {
        var buffer = RetransmissionBuffer(capacity: 512)
        for sequence in UInt16(0)..<600 { buffer.store([UInt8(truncatingIfNeeded: sequence)], sequence: sequence) }
        #expect(buffer.resend(50) == nil, "overwritten by 562")
        for _ in 0..<RetransmissionBuffer.maximumResends { #expect(buffer.resend(300) == [UInt8(truncatingIfNeeded: 300)]) }
        #expect(buffer.resend(300) == nil, "asking once more than the limit gets nothing")
        #expect(buffer.resend(599) == [UInt8(truncatingIfNeeded: 599)])
    }

    @Test func theBitrateFallsWithLossAndRisesSlowlyWhenClean() {
        var rate = VideoRateController(start: 400_000, range: 50_000...1_000_000)
        // 25 % loss: down by an eighth.
        #expect(rate.report(fractionLost: 64, at: 0) == 350_000)
        // 5 %: held.
        #expect(rate.report(fractionLost: 13, at: 1) == 350_000)
        // Clean: up 8 %, but not twice within a second.
        #expect(rate.report(fractionLost: 0, at: 2) == 378_000)
        #expect(rate.report(fractionLost: 0, at: 2.5) == 378_000)
        #expect(rate.report(fractionLost: 0, at: 3) == 408_240)
        for second in 4..<40 { rate.report(fractionLost: 255, at: Double(second)) }
        #expect(rate.bitrate == 50_000)
    }
}
