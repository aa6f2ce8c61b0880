import DuetWire

/// The send side of one video stream: camera → VP8 → RFC 7741 packets (in a group call:
/// SFrame over each whole frame, then SFrame packets with frame marking) → SRTP, with what RTCP
/// asks of a sender — a lost packet sent again once (NACK), a keyframe (PLI), the bitrate set
/// from receiver reports' loss (`VideoRateController`) — and the sender report it owes.
///
/// Packets are kept after SRTP (`RetransmissionBuffer`): one sent again is the same bytes,
/// never protected twice under one index. Not thread-safe alone: one owner sends and feeds it
/// feedback.
public struct VideoSender: Sendable {
    /// RTP payload bytes per packet: a 1,200-byte datagram less the RTP header and the
    /// largest SRTP tag (GCM's 16).
    public static let maximumPayload = 1200 - 12 - 16

    public let ssrc: UInt32
    public let camera: SyntheticCamera
    private let encoder: VP8Encoder
    private var sequence: UInt16
    private let timestampBase: UInt32
    private var pictureID: UInt16
    private var retransmissions = RetransmissionBuffer()
    private var rate: VideoRateController
    private var lastTimestamp: UInt32
    /// Packets and payload bytes sent (first sends), for the sender report.
    public private(set) var packetsSent = 0
    public private(set) var octetsSent = 0
    public private(set) var packetsResent = 0
    public private(set) var keyframesAsked = 0
    /// The last picture the camera took: the self-view.
    public private(set) var lastPicture: VideoFrame?

    /// Group calls: each frame sealed whole under this device's SFrame sender key.
    private let sealing: SFrameSender?

    /// `sealing`: a group call's stream — three temporal layers, each frame SFrame-encrypted
    /// whole (`SFramePayload`), its boundaries, keyframes and layer in RFC 9626 frame marking,
    /// the only part an SFU can read. Nil: VP8 as RFC 7741 carries it (1:1 calls, under SRTP
    /// end to end).
    public init(camera: SyntheticCamera, ssrc: UInt32, bitrate: Int = 250_000, sealing: SFrameSender? = nil) throws(VideoCodecError) {
        self.camera = camera
        self.ssrc = ssrc
        self.sealing = sealing
        rate = VideoRateController(start: bitrate)
        encoder = try VP8Encoder(
            configuration: .init(
                width: camera.width, height: camera.height, framesPerSecond: camera.framesPerSecond, bitrate: rate.bitrate,
                temporalLayers: sealing != nil))
        // RFC 3550 §5.1: random starting points.
        sequence = .random(in: .min ... .max)
        timestampBase = .random(in: .min ... .max)
        pictureID = .random(in: 0...0x7FFF)
        lastTimestamp = timestampBase
    }

    /// The bitrate the encoder aims for now.
    public var bitrate: Int { encoder.bitrate }

    /// Picture `index` of the camera's schedule (pictures skipped after a stall leave gaps, so
    /// RTP time keeps up with the clock), captured at `stampMilliseconds`, as SRTP packets to
    /// send in order.
    public mutating func nextPicture(index: Int, stampMilliseconds: Int, srtp: SRTPSession) throws -> [[UInt8]] {
        try send(camera.frame(index, stampMilliseconds: stampMilliseconds), index: index, srtp: srtp)
    }

    /// `picture` (the camera's size) as picture `index` of the schedule: an Echo Test sends
    /// back the pictures it is shown instead of its camera's.
    public mutating func send(_ picture: VideoFrame, index: Int, srtp: SRTPSession) throws -> [[UInt8]] {
        lastPicture = picture
        let ticks = UInt32(truncatingIfNeeded: index * (VP8Encoder.clockRate / camera.framesPerSecond))
        var packets: [[UInt8]] = []
        for frame in try encoder.encode(picture) {
            let timestamp = timestampBase &+ ticks
            lastTimestamp = timestamp
            let payloads = try payloads(of: frame)
            for (index, payload) in payloads.enumerated() {
                let packet = RTPPacket(
                    payloadType: RTPPayloadType.vp8, sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc,
                    marker: index == payloads.count - 1,
                    headerExtension: try sealing.map { _ in try Self.marking(frame, first: index == 0, last: index == payloads.count - 1) },
                    payload: payload)
                let protected = try srtp.protect(packet.serialized())
                retransmissions.store(protected, sequence: sequence)
                packets.append(protected)
                sequence &+= 1
                packetsSent += 1
                octetsSent += payload.count
            }
        }
        return packets
    }

    /// Room for the frame marking's header extension (4 bytes of extension header, one word of
    /// elements) in a sealed stream's packets.
    static let markingRoom = 8

    /// One encoded frame's RTP payloads: VP8 behind RFC 7741 descriptors, or (group calls) its
    /// SFrame ciphertext behind SFrame descriptors.
    private mutating func payloads(of frame: VP8Encoder.EncodedFrame) throws -> [[UInt8]] {
        guard let sealing else {
            defer { pictureID = (pictureID &+ 1) & 0x7FFF }
            return VP8Payload.packetize(frame.bytes, pictureID: pictureID, maximumPayload: Self.maximumPayload)
        }
        return SFramePayload.packetize(
            try sealing.encrypt(frame.bytes, metadata: Self.sealedMetadata), maximumPayload: Self.maximumPayload - Self.markingRoom)
    }

    /// Authenticated with each sealed video frame (SFrame's metadata, not sent): audio frames
    /// are sealed under the same key with none, so neither can be passed off as the other.
    public static let sealedMetadata = Array("duet video".utf8)

    /// The frame marking of one packet of `frame`.
    static func marking(_ frame: VP8Encoder.EncodedFrame, first: Bool, last: Bool) throws(RTPEncodeError) -> RTPHeaderExtension {
        let marking = RTPFrameMarking(
            startOfFrame: first, endOfFrame: last, independent: frame.isKeyframe, discardable: frame.discardable,
            baseLayerSync: frame.layerSync, temporalLayer: frame.temporalLayer)
        return try RTPHeaderExtension(oneByteElements: [marking.element()])
    }

    /// The next picture is a keyframe: the camera came back on, and a receiver that saw the
    /// stream stop should not wait for a PLI's round trip.
    public mutating func sendKeyframeNext() { encoder.requestKeyframe() }

    /// What a receiver's feedback about this stream asks for: packets to send again (already
    /// protected); a PLI makes the next picture a keyframe; a report's loss sets the bitrate.
    /// Feedback about other streams is ignored.
    public mutating func handle(_ feedback: RTCPPacket, at time: Double) throws(VideoCodecError) -> [[UInt8]] {
        switch feedback {
        case let .nack(_, media, lost) where media == ssrc:
            let again = lost.compactMap { retransmissions.resend($0) }
            packetsResent += again.count
            return again
        case let .pictureLoss(_, media) where media == ssrc:
            keyframesAsked += 1
            encoder.requestKeyframe()
        case let .receiverReport(_, reports):
            for block in reports where block.source == ssrc {
                let target = rate.report(fractionLost: block.fractionLost, at: time)
                if target != encoder.bitrate { try encoder.setBitrate(target) }
            }
        default:
            break
        }
        return []
    }

    /// This stream's sender report at `ntpTime`, stamped with the last picture's RTP time.
    public func senderReport(ntpTime: UInt64) -> RTCPSenderReport {
        RTCPSenderReport(
            sender: ssrc, ntpTime: ntpTime, rtpTime: lastTimestamp, packetCount: UInt32(truncatingIfNeeded: packetsSent),
            octetCount: UInt32(truncatingIfNeeded: octetsSent))
    }
}
