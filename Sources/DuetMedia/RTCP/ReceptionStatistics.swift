import DuetWire

/// What a receiver knows of one incoming RTP stream, kept as RFC 3550 Appendix A.1, A.3 and
/// A.8 keep it, for its receiver report block: the extended highest sequence number (cycles
/// counted across wraps), packets expected and lost (in all and since the last report),
/// interarrival jitter, and the last sender report's time for the sender's round trip.
///
/// No probation (A.1's MIN_SEQUENTIAL): Duet's packets are authenticated by SRTP before they
/// get here, so a stray stream cannot start one. A jump of more than `maximumDropout` ahead or
/// `maximumMisorder` behind is ignored once; the same jump twice is the sender restarting.
public struct ReceptionStatistics: Sendable {
    static let maximumDropout: UInt16 = 3000
    static let maximumMisorder: UInt16 = 100

    public let source: UInt32
    /// The stream's RTP clock, for jitter in its units.
    public let clockRate: Int
    private var base: UInt32 = 0
    private var highest: UInt16 = 0
    private var cycles: UInt32 = 0
    private var suspect: UInt16?
    private var started = false
    public private(set) var received = 0
    private var expectedPrior = 0
    private var receivedPrior = 0
    private var transit: UInt32?
    private var jitter = 0.0
    private var lastSenderReport: (middle: UInt32, arrival: Double)?

    public init(source: UInt32, clockRate: Int) {
        self.source = source
        self.clockRate = clockRate
    }

    /// One packet, its RTP timestamp, arrived at `arrival` seconds (any steady clock).
    public mutating func record(sequence: UInt16, timestamp: UInt32, arrival: Double) {
        guard started else {
            started = true
            restart(at: sequence)
            received = 1
            return
        }
        let ahead = sequence &- highest
        if ahead != 0 && ahead < Self.maximumDropout {
            if sequence < highest { cycles &+= 1 << 16 }
            highest = sequence
        } else if ahead != 0 && ahead <= UInt16.max - Self.maximumMisorder {
            // A big jump: once is noise, twice in a row is the sender starting over.
            guard suspect == sequence else {
                suspect = sequence &+ 1
                return
            }
            restart(at: sequence)
        }
        suspect = nil
        received += 1
        // Transit time in the stream's units, modulo 2^32 as the timestamps are (A.8).
        let now = UInt32(truncatingIfNeeded: Int64(arrival * Double(clockRate))) &- timestamp
        if let transit { jitter += (Double(abs(Int(Int32(bitPattern: now &- transit)))) - jitter) / 16 }
        transit = now
    }

    /// A sender report from this source arrived at `arrival`: the next report block says when.
    public mutating func senderReported(ntpTime: UInt64, arrival: Double) {
        lastSenderReport = (UInt32(truncatingIfNeeded: ntpTime >> 16), arrival)
    }

    /// The report block for now, and the interval's counts start again.
    public mutating func report(at now: Double) -> RTCPReportBlock {
        let extended = cycles &+ UInt32(highest)
        let expected = started ? Int(extended &- base) + 1 : 0
        let expectedInterval = expected - expectedPrior, receivedInterval = received - receivedPrior
        expectedPrior = expected
        receivedPrior = received
        let lostInterval = expectedInterval - receivedInterval
        let fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : UInt8(min(255, (lostInterval << 8) / expectedInterval))
        let delay = lastSenderReport.map { UInt32(max(0, (now - $0.arrival) * 65_536)) } ?? 0
        return RTCPReportBlock(
            source: source, fractionLost: fraction, cumulativeLost: expected - received, highestSequence: extended,
            jitter: UInt32(jitter), lastSenderReport: lastSenderReport?.middle ?? 0, delaySinceLastSenderReport: delay)
    }

    private mutating func restart(at sequence: UInt16) {
        base = UInt32(sequence)
        highest = sequence
        cycles = 0
        received = 0
        expectedPrior = 0
        receivedPrior = 0
        transit = nil
        suspect = nil
    }
}
