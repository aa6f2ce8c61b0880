import DuetMedia

/// One participant's way into the mix: their own jitter buffer (arrival order and timing
/// differ per participant) and their own Opus decoder (decoder state is per stream, and PLC
/// must extrapolate from that participant's voice, not someone else's).
///
/// Not Sendable: its recorder owns it.
final class ParticipantLane {
    /// Recordings need no low latency, so the buffer may hold more than a call's would and
    /// conceal less: 60 ms at least, up to half a second on a jittery leg.
    static let jitterConfiguration: JitterBuffer.Configuration = {
        var configuration = JitterBuffer.Configuration()
        configuration.minimumDepth = .milliseconds(60)
        configuration.maximumDepth = .milliseconds(500)
        return configuration
    }()

    let name: String
    private var buffer = JitterBuffer(configuration: ParticipantLane.jitterConfiguration)
    private let decoder: OpusDecoder
    /// Tick of the last packet received: a lane silent for long is dropped (see MeetingRecorder).
    private(set) var lastPacketTick: Int
    /// Whether this lane has decoded anything yet; PLC before the first frame has nothing to extend.
    private var started = false

    init(name: String, tick: Int) throws(OpusError) {
        self.name = name
        decoder = try OpusDecoder()
        lastPacketTick = tick
    }

    var statistics: JitterBufferStatistics { buffer.statistics }

    /// Late frames in a row after which the sender is taken to have restarted its sequence
    /// numbers (a new leg the meeting code did not announce with `participantLeft`): half a second.
    static let lateFramesBeforeRestart = 25
    private var lateInARow = 0

    func insert(_ frame: [UInt8], sequenceNumber: UInt16, timestamp: UInt32, tick: Int) {
        // Arrival on the recorder's own 20 ms clock: only differences matter to the buffer.
        let arrival = Duration.milliseconds(Int64(tick) * Int64(AudioFormat.frameDurationMilliseconds))
        let packet = JitterBuffer.Packet(sequenceNumber: sequenceNumber, timestamp: timestamp, arrival: arrival, payload: frame)
        lastPacketTick = tick
        guard buffer.insert(packet) == .late else {
            lateInARow = 0
            return
        }
        lateInARow += 1
        // A sequence that jumped backwards would be "late" forever: start a fresh buffer on it.
        if lateInARow >= Self.lateFramesBeforeRestart {
            lateInARow = 0
            buffer = JitterBuffer(configuration: Self.jitterConfiguration)
            buffer.insert(packet)
        }
    }

    /// The next 20 ms of this participant, or nil when there is nothing to play (not started,
    /// or the buffer ran dry because they stopped sending): silence, not concealment, so a
    /// participant who left does not trail off into PLC noise.
    func nextFrame() -> [Int16]? {
        do {
            switch buffer.nextFrame() {
            case let .packet(payload):
                started = true
                return try decoder.decode(payload)
            case let .missing(next):
                guard started else { return nil }
                if let next { return try decoder.recoverWithFEC(nextPacket: next) }
                return try decoder.concealLoss()
            case .notReady:
                return nil
            }
        } catch {
            // A corrupt packet from one participant must not stop the recording: conceal it.
            return try? decoder.concealLoss()
        }
    }
}
