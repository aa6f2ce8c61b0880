import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// What a stream carries. Audio today; video plugs in as another kind, with its own source,
/// codec and frame time, through the same pump.
enum MediaKind: Sendable, Equatable {
    case audio

    /// The time one frame covers (the pump's clock ticks at the shortest of its kinds).
    var frameDuration: Duration {
        switch self {
        case .audio: .milliseconds(AudioFormat.frameDurationMilliseconds)
        }
    }
}

/// How a device's media is made. The defaults are every device's; the load bench lowers the
/// cost to fit a hundred devices in one process on two cores.
struct MediaOptions: Sendable {
    /// The Opus encoder's complexity (0–10).
    var opusComplexity = 10
    /// Live by default; the load bench's devices replay their voice encoded once (see `VoiceEncoder`).
    var voiceEncoding = VoiceEncoder.Mode.live
}

/// The engine a pump serves: it takes the socket's datagrams and the frame clock's ticks, on
/// its own actor, in order.
protocol MediaPumpDriver: Actor {
    /// Datagrams as the socket (or a relay stream) delivered them, oldest first.
    func pumpReceived(_ batch: [MediaSocket.Datagram]) async
    /// One frame time passed; false stops the clock (the call is over).
    func pumpTicked(completingSecond: Bool) async -> Bool
}

/// One call's media machinery, the same for a 1:1 call, a group call and a meeting: the frame
/// clock, the datagram inbox, the RFC 7983 demux, the SRTP sessions, the send chain
/// (`OutboundMedia`: source → encoder → optional sealer → RTP → SRTP) and the receive chain
/// (SRTP → the engine's frame opener → an `InboundStream` per sender: jitter buffer → decoder →
/// listener). What differs between kinds of call is only what the engine plugs in: where
/// packets go (`transmit`), how a frame is sealed and opened (SFrame in group calls, nothing
/// else in the others), and where the keys come from (the call's own, or a DTLS handshake).
/// Owned by one engine's actor; not thread-safe alone.
final class MediaPump {
    /// What a datagram turned out to be.
    enum Received: Equatable {
        /// For the engine: connectivity checks, STUN answers, a DTLS record.
        case stun([UInt8])
        case dtls([UInt8])
        /// A frame of `source`'s went into its stream; `firstHeard`: the call's first decoded
        /// frame, played already (until one is heard, frames are played as they come).
        case media(source: String, firstHeard: Bool)
        /// A packet of the peer's video (`VideoMedia`); `shown`: it made a new picture.
        case video(shown: Bool)
        /// RTCP for the video, taken (SRTCP checked).
        case rtcp
        /// Media that checked (SRTP) but that no opener claimed: counted.
        case unclaimed
        /// Counted (tampered, replayed) or not media at all.
        case dropped
    }

    /// A frame the engine's opener made of an RTP packet: whose it is and its codec payload.
    struct OpenedFrame {
        var source: String
        var payload: [UInt8]
        var epoch: UInt16? = nil
    }

    private(set) var outbound: OutboundMedia
    /// A 1:1 call's video, both ways (set by the engine when media starts; nil elsewhere).
    var video: VideoMedia?
    private(set) var streams: [String: InboundStream] = [:]
    private var sending: SRTPSession?
    private var receiving: SRTPSession?
    /// Packets whose SRTP or RTP did not check, replays, and frames no opener claimed.
    private(set) var rejected = 0
    private(set) var replayed = 0
    /// Video packets that came twice (a resend after a NACK, and the late first copy).
    private(set) var videoDuplicates = 0
    private(set) var unopened = 0
    /// When the first frame of any stream was decoded (nil: nothing heard yet).
    private(set) var firstHeardAt: ContinuousClock.Instant?
    private(set) var inbox: DatagramInbox?
    private var reader: Task<Void, Never>?
    private var clock: Task<Void, Never>?

    /// Until a frame is heard, each one is played as it arrives rather than at the next tick:
    /// a 1:1 call's first words come up to a frame sooner. Off for group calls and meetings,
    /// whose streams keep one playout per tick.
    private let playsFirstFrameAtOnce: Bool

    init(outbound: OutboundMedia, playsFirstFrameAtOnce: Bool = false) {
        self.outbound = outbound
        self.playsFirstFrameAtOnce = playsFirstFrameAtOnce
    }

    deinit {
        reader?.cancel()
        clock?.cancel()
        inbox?.close()
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

    // MARK: - Clock and inbox

    /// Starts the frame clock: `driver` ticks every frame time until it says stop.
    func startClock(_ driver: some MediaPumpDriver) {
        clock?.cancel()
        clock = Task { [weak driver] in
            var beat = FrameClock()
            while await beat.nextFrame() {
                guard let driver, await driver.pumpTicked(completingSecond: beat.completesSecond) else { return }
            }
        }
    }

    /// Datagrams from now on go to `driver`, in batches, in the order they arrived (a task per
    /// datagram would hand them over in any order, and cost a task and a turn each). `attach`
    /// points the socket (and a relay stream) at the new inbox; an earlier inbox is closed.
    @discardableResult
    func read(into driver: some MediaPumpDriver, attach: (DatagramInbox) -> Void) -> DatagramInbox {
        reader?.cancel()
        inbox?.close()
        let next = DatagramInbox()
        attach(next)
        inbox = next
        reader = Task { [weak driver] in
            for await batch in next.batches { await driver?.pumpReceived(batch) }
        }
        return next
    }

    /// The clock and the reader stop, and the media with them (`stopMedia`).
    func stop() {
        reader?.cancel()
        clock?.cancel()
        inbox?.close()
        (reader, clock, inbox) = (nil, nil, nil)
        stopMedia()
    }

    /// The SRTP sessions and the streams go (their keys with them); the clock goes on.
    func stopMedia() {
        dropKeys()
        video = nil
        for stream in streams.values { stream.close() }
        streams = [:]
    }

    // MARK: - Keys

    /// The SRTP sessions media goes through from now on: the call's own (1:1), or a DTLS
    /// handshake's with the server (legs to the SFU).
    func useKeys(sending: SRTPSession, receiving: SRTPSession) {
        self.sending = sending
        self.receiving = receiving
    }

    func dropKeys() {
        sending = nil
        receiving = nil
    }

    var hasKeys: Bool { sending != nil }

    /// The SRTP contexts (test hook: they must not outlive the call).
    var srtpSessions: [any AnyObject & Sendable] { [sending, receiving].compactMap { $0 } }

    // MARK: - Send chain

    var muted: Bool {
        get { outbound.muted }
        set { outbound.muted = newValue }
    }

    /// Sends the frames due by now through `transmit`, sealed by `seal` when given. Nothing
    /// leaves before the keys are in.
    func sendDueFrames(
        now: ContinuousClock.Instant = .now, seal: (([UInt8]) throws -> [UInt8])? = nil, transmit: ([UInt8]) -> Void
    ) throws {
        guard let sending else { return }
        for packet in try outbound.dueFrames(now: now, srtp: sending, seal: seal) { transmit(packet) }
        for packet in try video?.due(now: now, srtp: sending) ?? [] { transmit(packet) }
    }

    // MARK: - Receive chain

    /// Adds (or replaces) the stream of `source`'s frames.
    func addStream(_ stream: InboundStream) {
        streams[stream.source]?.close()
        streams[stream.source] = stream
    }

    func removeStream(of source: String) {
        streams[source]?.close()
        streams[source] = nil
    }

    /// One datagram's bytes (after the engine's route took off any relay framing): demuxed
    /// (RFC 7983); media is unprotected, parsed, opened by `open` (nil: not a frame of anyone
    /// this device hears) and queued in its sender's stream. A stream's first frame is played
    /// at once rather than at the next tick.
    func receive(_ bytes: [UInt8], open: (RTPPacket) -> OpenedFrame?) -> Received {
        switch MediaPacketKind(datagram: bytes) {
        case .stun: return .stun(bytes)
        case .dtls: return .dtls(bytes)
        case .rtp where video != nil && RTCPPacket.isRTCP(bytes): return receiveRTCP(bytes)
        case .rtp: return receiveMedia(bytes, open: open)
        default: return .dropped
        }
    }

    private func receiveMedia(_ bytes: [UInt8], open: (RTPPacket) -> OpenedFrame?) -> Received {
        guard let receiving else { return .dropped }
        let plain: [UInt8]
        do {
            plain = try receiving.unprotect(bytes)
        } catch SRTPError.replay {
            // A video packet sent again after a NACK whose first copy came late after all is
            // an honest duplicate, not a replay to warn about.
            if let video, let ssrc = RTPPacket.ssrc(of: bytes), video.isPeerVideo(ssrc: ssrc) {
                videoDuplicates += 1
            } else {
                replayed += 1
            }
            return .dropped
        } catch {
            rejected += 1
            return .dropped
        }
        guard let packet = try? RTPPacket(parsing: plain), !packet.payload.isEmpty else {
            rejected += 1
            return .dropped
        }
        if let video, video.claims(packet) { return .video(shown: video.receive(packet, now: .now)) }
        guard let frame = open(packet) else {
            unopened += 1
            return .unclaimed
        }
        guard let stream = streams[frame.source] else { return .dropped }
        stream.insert(packet, payload: frame.payload, epoch: frame.epoch)
        return .media(source: frame.source, firstHeard: playsFirstFrameAtOnce && firstHeardAt == nil && play(stream))
    }

    /// SRTCP from the peer, for the video; dropped (and counted) when it does not check.
    private func receiveRTCP(_ bytes: [UInt8]) -> Received {
        guard let receiving, let video else { return .dropped }
        var plain = bytes
        do {
            try receiving.unprotectRTCP(inPlace: &plain)
            try video.receive(try RTCPPacket.parse(plain), now: .now)
        } catch SRTPError.replay {
            replayed += 1
            return .dropped
        } catch {
            rejected += 1
            return .dropped
        }
        return .rtcp
    }

    /// Every frame time: one frame of each stream played out. True when that was the call's
    /// first decoded frame.
    @discardableResult
    func playout() -> Bool {
        let before = firstHeardAt
        for stream in streams.values { play(stream) }
        return before == nil && firstHeardAt != nil
    }

    /// One frame of `stream` played; true when it decoded a packet and is the call's first.
    @discardableResult
    private func play(_ stream: InboundStream) -> Bool {
        let played = stream.playout()
        if let samples = played.samples { outbound.echo(samples) }
        guard played.decodedPacket, firstHeardAt == nil else { return false }
        firstHeardAt = .now
        return true
    }
}
