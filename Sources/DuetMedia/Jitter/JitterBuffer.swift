/// Turns packets that arrive late, early, twice or not at all into a steady 20 ms stream for
/// the decoder, holding just enough audio to ride out the jitter it has seen.
///
/// A plain value with no clock: the network side calls `insert` with each packet's arrival
/// time, the playout side calls `nextFrame()` once per 20 ms. Tests drive both with
/// synthetic times. It knows nothing of RTP types so it can sit after SRTP and SFrame alike.
///
/// Assumes one 20 ms Opus frame per sequence number (Duet sends no DTX gaps).
public struct JitterBuffer: Sendable {
    /// One received media packet, already decrypted.
    public struct Packet: Sendable, Equatable {
        public var sequenceNumber: UInt16
        /// RTP timestamp, 48 kHz units (RFC 7587).
        public var timestamp: UInt32
        /// When it arrived, on any monotonic clock the caller keeps (only differences matter).
        public var arrival: Duration
        public var payload: [UInt8]

        public init(sequenceNumber: UInt16, timestamp: UInt32, arrival: Duration, payload: [UInt8]) {
            self.sequenceNumber = sequenceNumber
            self.timestamp = timestamp
            self.arrival = arrival
            self.payload = payload
        }
    }

    /// What the playout should do for the next 20 ms.
    public enum Frame: Sendable, Equatable {
        /// Decode this payload.
        case packet([UInt8])
        /// This frame was lost. If the following packet is here, its FEC data can rebuild this
        /// one (`OpusDecoder.recoverWithFEC`); otherwise conceal (`concealLoss`). Either way the
        /// following packet is still returned, as `.packet`, on the next call.
        case missing(nextPacketAvailable: [UInt8]?)
        /// Still filling (at start or after running dry): no frame was consumed. Play
        /// concealment or silence and ask again in 20 ms.
        case notReady
    }

    /// What happened to an inserted packet.
    public enum Insertion: Sendable, Equatable {
        case accepted
        /// Same sequence number as one already received; dropped (RFC 7587 §4.2 requires it).
        case duplicate
        /// Its turn in the playout had already passed; dropped.
        case late
    }

    public struct Configuration: Sendable, Equatable {
        public var minimumDepth: Duration = .milliseconds(20)
        public var maximumDepth: Duration = .milliseconds(200)
        /// Target = one frame + this many times the RFC 3550 jitter estimate.
        public var jitterMultiplier: Double = 3
        /// The target falls by at most one frame per this many packets, so a brief calm does
        /// not undo the protection a jittery network needed.
        public var packetsPerTargetDecrease: Int = 25
        /// Frames to play between two latency-reducing skips.
        public var framesPerSkip: Int = 10

        public init() {}
    }

    public private(set) var statistics = JitterBufferStatistics()
    public let configuration: Configuration

    private var packets: [Int64: Packet] = [:]
    /// Sequence numbers seen recently, to tell duplicates of already-played packets from late ones.
    private var seen: Set<Int64> = []
    private var firstSequence: Int64?
    private var highestSequence: Int64 = 0
    /// The next frame to hand out, in extended (unwrapped) sequence numbers.
    private var playoutSequence: Int64 = 0
    private var playing = false
    private var filling = true
    private var framesSinceSkip = 0
    private var packetsSinceTargetDecrease = 0
    private var targetFrames: Int
    /// Previous packet's arrival (in timestamp units) and RTP timestamp.
    private var lastArrival: (arrival: Double, timestamp: UInt32)?
    private var jitter: Double = 0

    private static let clockRate = Double(AudioFormat.sampleRate)
    private static let frameDuration = Duration.milliseconds(AudioFormat.frameDurationMilliseconds)
    /// How far behind the playout sequence numbers are remembered for duplicate detection.
    private static let memory: Int64 = 1024
    /// Frames beyond the maximum depth tolerated before catching up in one jump.
    private static let catchUpSlack = 5

    public init(configuration: Configuration = Configuration()) {
        precondition(
            configuration.minimumDepth >= Self.frameDuration && configuration.maximumDepth >= configuration.minimumDepth,
            "jitter buffer depth must be at least one frame and maximum ≥ minimum")
        self.configuration = configuration
        targetFrames = Self.frames(configuration.minimumDepth)
        updateDepthStatistics()
    }

    /// Audio the buffer currently aims to hold ahead of playout.
    public var targetDepth: Duration { Self.frameDuration * targetFrames }

    /// Audio currently held ahead of playout (counting gaps still expected to fill).
    public var currentDepth: Duration { Self.frameDuration * Int(bufferedFrames) }

    // MARK: - Network side

    @discardableResult
    public mutating func insert(_ packet: Packet) -> Insertion {
        let sequence = extend(packet.sequenceNumber)
        if seen.contains(sequence) {
            statistics.duplicates += 1
            return .duplicate
        }
        seen.insert(sequence)
        statistics.received += 1
        updateJitter(packet)
        if sequence > highestSequence { highestSequence = sequence }
        let first = min(firstSequence ?? sequence, sequence)
        firstSequence = first
        statistics.lost = max(0, Int(highestSequence - first + 1) - statistics.received)

        if !playing {
            if packets.isEmpty || sequence < playoutSequence { playoutSequence = sequence }
        } else if sequence < playoutSequence {
            statistics.late += 1
            return .late
        }
        packets[sequence] = packet
        updateDepthStatistics()
        return .accepted
    }

    // MARK: - Playout side

    /// The next 20 ms of the stream. Call exactly once per 20 ms of playout.
    public mutating func nextFrame() -> Frame {
        defer { updateDepthStatistics() }
        var buffered = bufferedFrames
        if buffered == 0 {
            // Ran dry: wait for a full target's worth again rather than dribbling out losses.
            filling = true
            if playing { statistics.underruns += 1 }
            return .notReady
        }
        if filling {
            guard buffered >= targetFrames else { return .notReady }
            filling = false
            playing = true
        }
        // Far more than the maximum held (a long stall then a flood, or the sender jumped
        // ahead): catch up at once rather than play seconds behind.
        if buffered > Int64(Self.frames(configuration.maximumDepth) + Self.catchUpSlack) {
            let resume = highestSequence - Int64(targetFrames) + 1
            let before = packets.count
            packets = packets.filter { $0.key >= resume }
            statistics.skipped += before - packets.count
            // Start on real audio, not on a gap the flood never filled.
            playoutSequence = packets.keys.min() ?? resume
            buffered = bufferedFrames
        }
        // Too much audio held (the network calmed down, or a burst arrived): skip a frame now
        // and then to bring latency back to the target.
        framesSinceSkip += 1
        if buffered > targetFrames + 1, framesSinceSkip >= configuration.framesPerSkip {
            framesSinceSkip = 0
            if packets.removeValue(forKey: playoutSequence) != nil { statistics.skipped += 1 }
            advance()
        }
        let sequence = playoutSequence
        advance()
        if let packet = packets.removeValue(forKey: sequence) {
            statistics.played += 1
            return .packet(packet.payload)
        }
        statistics.concealed += 1
        return .missing(nextPacketAvailable: packets[sequence + 1]?.payload)
    }

    // MARK: - Internals

    private var bufferedFrames: Int64 {
        guard !packets.isEmpty, highestSequence >= playoutSequence else { return 0 }
        return highestSequence - playoutSequence + 1
    }

    private mutating func advance() {
        playoutSequence += 1
        let forget = playoutSequence - Self.memory
        if forget > 0, seen.count > Int(Self.memory) * 2 {
            seen = seen.filter { $0 >= forget }
        }
    }

    /// RFC 3550 appendix A.1 style unwrapping: the nearest extended number to the highest seen.
    private func extend(_ sequence: UInt16) -> Int64 {
        guard firstSequence != nil else { return Int64(sequence) }
        let delta = Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: highestSequence))
        return highestSequence + Int64(delta)
    }

    /// RFC 3550 §6.4.1: D = (Rj - Ri) - (Sj - Si) between consecutive arrivals, and
    /// J += (|D| - J) / 16, all in timestamp units. Sj - Si wraps like the timestamps do.
    private mutating func updateJitter(_ packet: Packet) {
        let (seconds, attoseconds) = packet.arrival.components
        let arrival = (Double(seconds) + Double(attoseconds) * 1e-18) * Self.clockRate
        if let last = lastArrival {
            let sent = Double(Int32(bitPattern: packet.timestamp &- last.timestamp))
            let d = (arrival - last.arrival) - sent
            jitter += (abs(d) - jitter) / 16
        }
        lastArrival = (arrival, packet.timestamp)
        statistics.jitterTimestampUnits = UInt32(jitter.rounded())
        statistics.jitterMilliseconds = jitter / Self.clockRate * 1000
        adaptTarget()
    }

    private mutating func adaptTarget() {
        let frameMs = Double(AudioFormat.frameDurationMilliseconds)
        let wantedMs = frameMs + configuration.jitterMultiplier * statistics.jitterMilliseconds
        let wanted = min(
            max(Int((wantedMs / frameMs).rounded(.up)), Self.frames(configuration.minimumDepth)),
            Self.frames(configuration.maximumDepth))
        packetsSinceTargetDecrease += 1
        if wanted > targetFrames {
            targetFrames = wanted
            packetsSinceTargetDecrease = 0
        } else if wanted < targetFrames, packetsSinceTargetDecrease >= configuration.packetsPerTargetDecrease {
            targetFrames -= 1
            packetsSinceTargetDecrease = 0
        }
    }

    private mutating func updateDepthStatistics() {
        statistics.targetDepth = targetDepth
        statistics.currentDepth = currentDepth
    }

    private static func frames(_ duration: Duration) -> Int {
        Int((duration / frameDuration).rounded(.up))
    }
}

/// Receive-side counters for the call screen and RTCP-style reports.
public struct JitterBufferStatistics: Sendable, Equatable {
    /// Distinct packets received (duplicates not counted; late ones are).
    public var received = 0
    /// Expected minus received, RFC 3550 style: packets the network never delivered.
    public var lost = 0
    /// Arrived after their playout slot; dropped.
    public var late = 0
    public var duplicates = 0
    /// Frames handed out as `.missing` (lost or late), filled by FEC or PLC.
    public var concealed = 0
    public var played = 0
    /// Received frames dropped to bring latency down to the target.
    public var skipped = 0
    /// Times playout ran dry after it had started.
    public var underruns = 0
    /// RFC 3550 §6.4.1 interarrival jitter in RTP timestamp units (48 kHz).
    public var jitterTimestampUnits: UInt32 = 0
    public var jitterMilliseconds: Double = 0
    public var targetDepth: Duration = .zero
    public var currentDepth: Duration = .zero

    public init() {}
}
