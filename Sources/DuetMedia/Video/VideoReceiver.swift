import DuetWire

/// The receive side of one video stream: RTP (after SRTP) → frames in order
/// (`RTPFrameAssembler`; in a group call each frame then opened from SFrame) → pictures (`VP8Decoder`) → what was seen (`VideoAnalyser`), and the
/// feedback a receiver owes its sender: a NACK for each packet found missing (asked again,
/// up to `maximumNACKs` times, while it does not come within a repair time — see
/// `repairTime`), a PLI
/// when the pictures cannot go on without a keyframe (at most one per `keyframeRequestInterval`),
/// and a receiver report (`ReceptionStatistics`).
///
/// Until a keyframe has decoded — at the start, and after a frame was given up or did not
/// decode — frames that need earlier ones are not decoded: they would show a broken picture.
/// A keyframe is asked for once such a frame arrives (the first frame of a stream is a
/// keyframe anyway), or at once when a frame was given up or did not decode.
public struct VideoReceiver: Sendable {
    public static let keyframeRequestInterval = 0.5
    /// Packets missing at once that NACKs are kept for; more is a burst a keyframe repairs.
    public static let maximumMissing = 256
    /// A gap spanning more than this much media time (an outage) is not asked for again: the
    /// frames in it are stale by the time they could come, so the receiver moves on and asks
    /// for a keyframe. In 90 kHz ticks: 300 ms, about the frames the assembler holds.
    public static let maximumNACKSpan: UInt32 = 27_000
    /// Times a missing packet is asked for: a NACK or the packet sent again can be lost too.
    /// As many as a sender sends a packet again (`RetransmissionBuffer.maximumResends`).
    public static let maximumNACKs = RetransmissionBuffer.maximumResends
    /// What a repair is taken to need before one was seen: a NACK's round trip on a slow path.
    public static let initialRepairTime = 0.1
    /// A packet asked for again no sooner than this: the feedback is sent every audio frame
    /// (20 ms), and a repair quicker than that is asked once anyway.
    public static let minimumRetryInterval = 0.02
    /// A missing packet this old is no longer asked for: its frame is given up by then.
    public static let missingLifetime = 1.0

    /// The sender's SSRC, and this receiver's own for its feedback.
    public let media: UInt32
    public let ssrc: UInt32
    private var assembler = VP8FrameAssembler()
    /// Group calls: each frame SFrame ciphertext (`opening` holds the sender's keys).
    private var sealedAssembler = RTPFrameAssembler<SFramePayload>()
    private let opening: SFrameReceiver?
    private let decoder: VP8Decoder
    private var analyser: VideoAnalyser
    private var statistics: ReceptionStatistics
    private var highest: (sequence: UInt16, timestamp: UInt32)?
    /// Missing sequence numbers: when each was found missing, how often a NACK went for it, the last when.
    private var missing: [UInt16: MissingPacket] = [:]
    /// How long a NACK takes to bring its packet, smoothed (as TCP smooths its round trip,
    /// RFC 6298: the first measured, then an eighth of each next) over packets asked for
    /// once — a packet asked for twice could be answering either, so it may only raise the
    /// estimate — so a NACK is repeated only when its answer is late, each repeat waiting twice
    /// as long as the one before. Nil until a repair was seen.
    public private(set) var repairTime: Double?
    /// Frames that need earlier ones are skipped until a keyframe decodes.
    private var waitingForKeyframe = true
    /// Whether to ask the sender for one.
    private var keyframeWanted = false
    private var lastKeyframeRequest: Double?
    private var droppedSeen = 0
    public private(set) var picturesShown = 0
    public private(set) var decodeErrors = 0
    public private(set) var keyframeRequests = 0
    /// Keyframes decoded and shown.
    public private(set) var keyframesShown = 0
    /// Group calls: frames whose SFrame did not open (no key yet, tampered, replayed).
    public private(set) var framesUnopened = 0
    /// RTP payload bytes taken, for the bitrate seen.
    public private(set) var octetsReceived = 0
    /// The last picture decoded.
    public private(set) var picture: VideoFrame?

    /// `opening`: the stream is a group call's, each frame sealed whole under the sender's
    /// SFrame key (`SFramePayload`, with RFC 9626 frame marking); nil: VP8 as RFC 7741 carries it.
    public init(media: UInt32, ssrc: UInt32, people: [String], opening: SFrameReceiver? = nil) throws(VideoCodecError) {
        self.media = media
        self.ssrc = ssrc
        self.opening = opening
        decoder = try VP8Decoder()
        analyser = VideoAnalyser(people: people)
        statistics = ReceptionStatistics(source: media, clockRate: Int(RTPPayloadType.vp8ClockRate))
    }

    /// Whether any packet of the stream has come (before that there is nothing to report on).
    public var hasReceived: Bool { statistics.received > 0 }

    /// The sender said it stops (an RTCP BYE: its camera went off); its next picture after
    /// the pause is not a freeze.
    public mutating func senderStopped() { analyser.pause() }

    /// What has been seen so far (`VideoAnalyser`).
    public func seen(at time: Double) -> VideoAnalyser.Report { analyser.summary(at: time) }

    /// One RTP packet of the stream, arrived at `time` seconds; true when it made a new
    /// picture. `clockMilliseconds`: the sender's capture clock now, on one machine.
    @discardableResult
    public mutating func receive(_ packet: RTPPacket, at time: Double, clockMilliseconds: Int? = nil) -> Bool {
        !receiveFrames(packet, at: time, clockMilliseconds: clockMilliseconds).isEmpty
    }

    /// As `receive`, giving the frames that made new pictures (to save them: `IVFWriter`).
    public mutating func receiveFrames(_ packet: RTPPacket, at time: Double, clockMilliseconds: Int? = nil) -> [RTPAssembledFrame] {
        guard packet.ssrc == media, packet.payloadType == RTPPayloadType.vp8 else { return [] }
        statistics.record(sequence: packet.sequenceNumber, timestamp: packet.timestamp, arrival: time)
        octetsReceived += packet.payload.count
        let outage = noteSequence(packet.sequenceNumber, timestamp: packet.timestamp, at: time)
        guard var frames = assemble(packet, outage: outage) else { return [] }
        if opening != nil { frames = open(frames) }
        var shown: [RTPAssembledFrame] = []
        for frame in frames {
            guard !waitingForKeyframe || frame.isKeyframe else {
                keyframeWanted = true
                continue
            }
            guard let decoded = try? decoder.decode(frame.bytes) else {
                decodeErrors += 1
                (waitingForKeyframe, keyframeWanted) = (true, true)
                continue
            }
            if frame.isKeyframe {
                (waitingForKeyframe, keyframeWanted) = (false, false)
                keyframesShown += 1
            }
            analyser.observe(decoded, at: time, clockMilliseconds: clockMilliseconds)
            picture = decoded
            picturesShown += 1
            shown.append(frame)
        }
        return shown
    }

    /// The frames `packet` completes, in order (with the outage's gap given up first); a frame
    /// given up asks for a keyframe. Nil for a payload that is no frame's.
    private mutating func assemble(_ packet: RTPPacket, outage: Bool) -> [RTPAssembledFrame]? {
        let sealed = opening != nil
        guard let frames = sealed ? sealedAssembler.take(packet, outage: outage) : assembler.take(packet, outage: outage) else {
            return nil
        }
        let dropped = sealed ? sealedAssembler.framesDropped : assembler.framesDropped
        if dropped != droppedSeen {
            droppedSeen = dropped
            (waitingForKeyframe, keyframeWanted) = (true, true)
        }
        return frames
    }

    /// Each sealed frame opened into its VP8 frame; one that does not open is lost like a
    /// frame given up (the pictures after it wait for a keyframe). Whether it is a keyframe is
    /// read again from the opened bytes: the frame marking that said so travels in the clear,
    /// and an SFU could lie in it.
    private mutating func open(_ frames: [RTPAssembledFrame]) -> [RTPAssembledFrame] {
        frames.compactMap { frame in
            guard let plain = try? opening?.decrypt(frame.bytes, metadata: VideoSender.sealedMetadata) else {
                framesUnopened += 1
                (waitingForKeyframe, keyframeWanted) = (true, true)
                return nil
            }
            var opened = frame
            opened.bytes = plain.payload
            opened.isKeyframe = VP8Payload.isKeyframe(plain.payload[...])
            return opened
        }
    }

    /// Gaps become missing packets; a packet that fills one is no longer missing. True for a
    /// gap spanning more than `maximumNACKSpan`: an outage, nothing to ask for again.
    private mutating func noteSequence(_ sequence: UInt16, timestamp: UInt32, at time: Double) -> Bool {
        guard let last = highest else {
            highest = (sequence, timestamp)
            return false
        }
        let ahead = sequence &- last.sequence
        if ahead == 0 || ahead > UInt16.max / 2 {
            if let repaired = missing.removeValue(forKey: sequence), let first = repaired.firstAsked {
                // Asked once: the repair's time. Asked again: it answers one of the asks, so it
                // only raises the estimate (towards the time since the first) — an estimate too
                // short to ever see a packet asked once would otherwise stay (Karn's problem).
                let sample = time - first
                if repaired.asks == 1 || sample > (repairTime ?? 0) {
                    repairTime = repairTime.map { $0 + (sample - $0) / 8 } ?? sample
                }
            }
            return false
        }
        highest = (sequence, timestamp)
        guard ahead > 1 else { return false }
        let span = timestamp &- last.timestamp
        guard span <= Self.maximumNACKSpan || span > UInt32.max / 2 else { return true }
        for gap in 1..<ahead where missing.count < Self.maximumMissing { missing[last.sequence &+ gap] = MissingPacket(since: time) }
        return false
    }

    /// The feedback due at `time`: a NACK of packets newly found missing or whose repair is
    /// late, a PLI if a keyframe is needed and none was asked for lately.
    public mutating func feedback(at time: Double) -> [RTCPPacket] {
        var packets: [RTCPPacket] = []
        if let nack = nackDue(at: time) { packets.append(nack) }
        if keyframeWanted, lastKeyframeRequest.map({ time - $0 >= Self.keyframeRequestInterval }) ?? true {
            packets.append(.pictureLoss(sender: ssrc, media: media))
            lastKeyframeRequest = time
            keyframeRequests += 1
        }
        return packets
    }

    /// A NACK of the packets missing that are due to be asked for (again) at `time`; nil when
    /// none is — on a clean path, every frame time, without touching the table.
    private mutating func nackDue(at time: Double) -> RTCPPacket? {
        guard !missing.isEmpty else { return nil }
        // NACKed packets that have not come within the frames held will not help any more.
        missing = missing.filter { time - $0.value.since < Self.missingLifetime }
        if missing.count > Self.maximumMissing / 2 { missing = [:] }
        let retryAfter = max(Self.minimumRetryInterval, (repairTime ?? Self.initialRepairTime) * 1.5)
        let due = missing.filter { $0.value.isDue(at: time, retryAfter: retryAfter) }.keys.sorted { Int16(bitPattern: $0 &- $1) < 0 }
        guard !due.isEmpty else { return nil }
        for sequence in due {
            missing[sequence]?.asks += 1
            missing[sequence]?.lastAsked = time
            if missing[sequence]?.firstAsked == nil { missing[sequence]?.firstAsked = time }
        }
        return .nack(sender: ssrc, media: media, lost: due)
    }

    /// A packet found missing, and the NACKs that went for it.
    private struct MissingPacket: Sendable {
        let since: Double
        var asks = 0
        var firstAsked: Double?
        var lastAsked: Double?

        /// Unasked, or the last ask unanswered for `retryAfter`, doubled at each ask.
        func isDue(at time: Double, retryAfter: Double) -> Bool {
            guard let lastAsked else { return true }
            return asks < VideoReceiver.maximumNACKs && time - lastAsked >= retryAfter * Double(1 << max(0, asks - 1))
        }
    }

    /// A receiver report about the stream (the interval's counts start again).
    public mutating func report(at time: Double) -> RTCPPacket {
        .receiverReport(sender: ssrc, reports: [statistics.report(at: time)])
    }

    /// The sender's report: the next receiver report echoes its time for the round trip.
    public mutating func senderReported(_ report: RTCPSenderReport, at time: Double) {
        guard report.sender == media else { return }
        statistics.senderReported(ntpTime: report.ntpTime, arrival: time)
    }
}
