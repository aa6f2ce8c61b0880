import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// One call's media in both directions (DESIGN §3): the synthetic voice encoded with Opus,
/// packetized as RTP and protected with SRTP on the way out; on the way in SRTP-checked,
/// reordered by the jitter buffer, decoded (with FEC/PLC for gaps) and analysed so the
/// call can say whom it hears. Owned by the call engine; not thread-safe on its own.
final class MediaStream {
    /// A once-a-second summary of what this side hears.
    struct Report: Sendable, Equatable {
        var speaker: String?
        var level: Double
        var lossPercent: Double
        var jitterMilliseconds: Double
        var received: Int
        var rejected: Int
        var replayed: Int
    }

    /// What this side sends: its own synthetic voice, or (the Echo Test bot) what it hears.
    enum Voice: Sendable, Equatable {
        case synthetic
        case echo
    }

    private var outgoing: VoiceEncoder
    private let voice: Voice
    /// Decoded frames waiting to be sent back (echo), at most a second's worth.
    private var echoQueue: [[Int16]] = []
    private var packetizer: RTPPacketizer
    private let outbound: SRTPSession
    private let inbound: SRTPSession
    private var jitter = JitterBuffer()
    private let decoder: OpusDecoder
    private var listener: VoiceListener
    private let remoteSSRC: UInt32
    private let wav: WAVWriter?
    private let started = ContinuousClock.now
    var muted = false
    private(set) var rejected = 0
    private(set) var replayed = 0
    private(set) var received = 0
    /// `received` at the last report: none since means nothing is being heard.
    private var receivedAtLastReport = 0

    /// - Parameters: the numbers whose voices this side may hear; `sendKey`/`receiveKey` are
    ///   SRTP master key ‖ salt for each direction.
    init(
        ownNumber: String, voice: Voice = .synthetic, candidates: [String], localSSRC: UInt32, remoteSSRC: UInt32,
        sendKey: SecureBytes, receiveKey: SecureBytes, wav: URL?, opusComplexity: Int = 10,
        voiceEncoding: VoiceEncoder.Mode = .live
    ) throws {
        outgoing = try VoiceEncoder(number: ownNumber, complexity: opusComplexity, mode: voiceEncoding)
        self.voice = voice
        packetizer = RTPPacketizer(ssrc: localSSRC)
        outbound = try SRTPSession(role: .sender, masterKey: sendKey)
        inbound = try SRTPSession(role: .receiver, masterKey: receiveKey)
        decoder = try OpusDecoder()
        listener = VoiceListener(analyser: VoiceAnalyser(numbers: candidates))
        self.remoteSSRC = remoteSSRC
        self.wav = try wav.map { try WAVWriter(url: $0) }
    }

    /// Initialises and pages in libsrtp (with its crypto backend), libopus and the voice by
    /// making, using and dropping one of each: the first of each in a process costs several
    /// milliseconds (about 25 ms in all, measured in `duet call`), which would otherwise fall
    /// between a call's path being found and its first packet. Engines run it in the
    /// background when they start.
    static func prepareLibraries() {
        _ = try? SRTPSession(role: .sender, masterKey: SecureBytes(randomCount: CallKeys.srtpMasterKeyCount))
        guard var encoder = try? VoiceEncoder(number: "0"), let frame = try? encoder.nextFrame(muted: false),
            let decoder = try? OpusDecoder()
        else { return }
        _ = try? decoder.decode(frame)
    }

    /// The next 20 ms of our voice (or silence when muted) as an SRTP packet.
    func nextPacket() throws -> [UInt8] {
        let payload =
            switch voice {
            case .synthetic: try outgoing.nextFrame(muted: muted)
            case .echo:
                try outgoing.encode(
                    muted || echoQueue.isEmpty ? [Int16](repeating: 0, count: AudioFormat.samplesPerFrame) : echoQueue.removeFirst())
            }
        let packet = packetizer.packetize(payload)
        return try outbound.protect(packet.serialized())
    }

    /// An SRTP packet from the peer. Tampered, replayed or foreign packets are counted and dropped.
    func receive(_ bytes: [UInt8]) {
        let plain: [UInt8]
        do {
            plain = try inbound.unprotect(bytes)
        } catch SRTPError.replay {
            replayed += 1
            return
        } catch {
            rejected += 1
            return
        }
        guard let packet = try? RTPPacket(parsing: plain), packet.ssrc == remoteSSRC, !packet.payload.isEmpty else {
            rejected += 1
            return
        }
        received += 1
        _ = jitter.insert(
            JitterBuffer.Packet(
                sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                arrival: ContinuousClock.now - started, payload: packet.payload))
    }

    /// Called every 20 ms: the next decoded frame goes to the analyser (and WAV file).
    /// Returns true when a real packet (not concealment) was decoded.
    @discardableResult
    func playout() -> Bool {
        let samples: [Int16]?
        var decodedPacket = false
        switch jitter.nextFrame() {
        case let .packet(payload):
            samples = try? decoder.decode(payload)
            decodedPacket = samples != nil
        case let .missing(next):
            if let next { samples = try? decoder.recoverWithFEC(nextPacket: next) } else { samples = try? decoder.concealLoss() }
        case .notReady:
            samples = nil
        }
        guard let samples else { return false }
        if voice == .echo {
            echoQueue.append(samples)
            if echoQueue.count > 50 { echoQueue.removeFirst(echoQueue.count - 50) }
        }
        listener.append(samples)
        try? wav?.append(samples)
        return decodedPacket
    }

    /// What this side heard over the last second. With no packet since the last report nobody
    /// is heard, whatever the analyser last heard: after a network change left the call silent,
    /// "hearing Bob" would be a lie.
    func report() -> Report {
        let analysis = listener.report()
        let stats = jitter.statistics
        let expected = stats.received + stats.lost
        let silent = received == receivedAtLastReport
        receivedAtLastReport = received
        return Report(
            speaker: silent ? nil : analysis.speaker?.number, level: silent ? -120 : analysis.level,
            lossPercent: expected == 0 ? 0 : Double(stats.lost) * 100 / Double(expected),
            jitterMilliseconds: stats.jitterMilliseconds, received: received, rejected: rejected, replayed: replayed)
    }

    /// The SRTP contexts (test hook: they must not outlive the call).
    var srtpSessions: [any AnyObject & Sendable] { [outbound, inbound] }

    func close() {
        try? wav?.close()
    }
}
