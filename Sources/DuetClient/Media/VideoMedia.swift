import DuetMedia
import DuetWire
import Foundation

/// A 1:1 call's video (docs/video.md): this device's camera out (`VideoSender`), the peer's
/// pictures in (`VideoReceiver`), and the RTCP between them — feedback each frame time when
/// there is any, reports once a second — all over the call's SRTP sessions. Owned by the
/// `MediaPump`, which sends what it returns along the call's path. Not thread-safe alone.
///
/// The video SSRC is the audio SSRC plus one on each side; it exists only when both sides'
/// sealed offer and answer said they take video (`CallOffer.takesVideo`). A device whose
/// camera is off simply sends nothing on it.
///
/// A class, changed in place: a sender or receiver copied out for a change would copy its
/// buffers every packet, and a copy lost to an error halfway through a picture would send
/// the next one under SRTP indices already used.
final class VideoMedia {
    private(set) var sender: VideoSender?
    /// The video this device receives, by the sender's SSRC: the peer's in a 1:1 call, each
    /// member's in a group call (admitted as `expected` says).
    private(set) var peers: [UInt32: PeerVideo] = [:]
    /// Group calls: whose video each SSRC will carry, and the keys that open it — told by the
    /// engine once a member's audio SSRC is known to be theirs (`expect`). A stream of an SSRC
    /// not expected is dropped. A meeting's streams open with no keys (`opening` nil): they are
    /// VP8 under the leg's SRTP alone.
    private var expected: [UInt32: (person: String, opening: SFrameReceiver?)] = [:]
    private let isGroup: Bool
    /// Picture n is due n frame times after the first; at most `catchUp` leave at once.
    private var firstPictureAt: ContinuousClock.Instant?
    private(set) var picturesPassed = 0
    private var lastReport: ContinuousClock.Instant?
    private let start = ContinuousClock.now
    /// Packets sent again or RTCP owed, waiting for the next round of sending.
    private var pending: [[UInt8]] = []
    /// This side's camera is sending (`V` in the TUI); off, a BYE says so once a second.
    private(set) var cameraOn = true
    /// A BYE owed now: the camera just went off.
    private var goodbyeOwed = false
    static let catchUp = 2
    /// Streams received at once: a group call's members, and no more (a stream's decoder and
    /// buffers are its cost).
    static let maximumPeers = 16

    /// Someone's video as this device receives it.
    struct PeerVideo {
        let person: String
        var receiver: VideoReceiver
        /// They said their camera is off (a BYE for their video), and no picture came since.
        var cameraOff = false
        /// Payload bytes and new frames counted by the last `seeing`, and when: the bitrate
        /// and frame rate between two.
        var octetsSeen = 0
        var framesCounted = 0
        var seenAt: ContinuousClock.Instant?
    }

    /// Once a second: what each stream showed since the last time, by person (those that
    /// showed anything yet), with the bitrate between the two. The frame rate is the new
    /// frames between the two over the time between them: a count over the last second alone
    /// read 13 or 16 at 15 fps when a report fell between two frames that came close together.
    func seeing(now: ContinuousClock.Instant) -> [(person: String, seen: VideoAnalyser.Report, peer: PeerVideo, kilobitsPerSecond: Int)] {
        var reports: [(String, VideoAnalyser.Report, PeerVideo, Int)] = []
        for ssrc in peers.keys.sorted() {
            guard var peer = peers[ssrc] else { continue }
            let octets = peer.receiver.octetsReceived
            let seconds = peer.seenAt.map { (now - $0).inSeconds } ?? 0
            let bitrate = seconds > 0 ? Int(Double(octets - peer.octetsSeen) * 8 / seconds / 1000) : 0
            var seen = peer.receiver.seen(at: self.seconds(now))
            if seconds > 0 { seen.framesPerSecond = Int((Double(seen.framesSeen - peer.framesCounted) / seconds).rounded()) }
            (peer.octetsSeen, peer.framesCounted, peer.seenAt) = (octets, seen.framesSeen, now)
            peers[ssrc] = peer
            if seen.framesSeen > 0 { reports.append((peer.person, seen, peer, bitrate)) }
        }
        return reports
    }

    /// The video SSRC of a device whose audio SSRC is `audio`.
    static func ssrc(forAudio audio: UInt32) -> UInt32 { audio &+ 1 }

    /// An Echo Test's: it sends back the peer's pictures, from the first one on, at their size.
    private let echoes: Bool
    private let ownSSRC: UInt32

    /// A 1:1 call's: `camera` nil, this side only watches (or, `echoes`, sends back what it sees).
    init(camera: SyntheticCamera?, ownAudioSSRC: UInt32, peerAudioSSRC: UInt32, people: [String], echoes: Bool = false) throws {
        ownSSRC = Self.ssrc(forAudio: ownAudioSSRC)
        self.echoes = echoes
        isGroup = false
        sender = try echoes ? nil : camera.map { [ownSSRC] in try VideoSender(camera: $0, ssrc: ownSSRC) }
        let peer = Self.ssrc(forAudio: peerAudioSSRC)
        peers[peer] = PeerVideo(person: people.first ?? "", receiver: try VideoReceiver(media: peer, ssrc: ownSSRC, people: people))
    }

    /// A group call's: the camera's frames sealed under this device's sender key (`sealing`),
    /// the members' opened with theirs. A meeting's (`sealing` nil): plain VP8 both ways, as
    /// cloud-encrypted media is (the server reads it, and records it).
    init(camera: SyntheticCamera?, ownAudioSSRC: UInt32, sealing: SFrameSender?) throws {
        ownSSRC = Self.ssrc(forAudio: ownAudioSSRC)
        echoes = false
        isGroup = true
        sender = try camera.map { [ownSSRC] in try VideoSender(camera: $0, ssrc: ownSSRC, sealing: sealing) }
    }

    /// `person`'s video will come on the video SSRC of their audio SSRC `audio`, opened with
    /// `opening` (a member on a new leg replaces what was expected of them).
    func expect(audio: UInt32, person: String, opening: SFrameReceiver?) {
        expected = expected.filter { $0.value.person != person }
        expected[Self.ssrc(forAudio: audio)] = (person, opening)
    }

    /// Stops receiving `person`'s video (they left the group call).
    func forget(_ person: String) {
        peers = peers.filter { $0.value.person != person }
        expected = expected.filter { $0.value.person != person }
    }

    /// A 1:1 call's peer (the one stream it receives).
    var peer: PeerVideo? { isGroup ? nil : peers.values.first }

    /// Seconds since the call's video began: the receiver's and rate controller's clock.
    func seconds(_ now: ContinuousClock.Instant) -> Double { (now - start).inSeconds }

    /// The wall clock in milliseconds: on one machine both ends read the same, so the tag's
    /// capture stamp gives capture-to-display delay.
    static var wallMilliseconds: Int { Int(Date().timeIntervalSince1970 * 1000) }

    /// Whether `ssrc` is a video stream this device receives.
    func isPeerVideo(ssrc: UInt32) -> Bool { peers[ssrc] != nil }

    /// Whether `packet` is video for this device: a known stream's, or (group calls) a new one's.
    func claims(_ packet: RTPPacket) -> Bool {
        packet.payloadType == RTPPayloadType.vp8 && packet.ssrc != ownSSRC && (peers[packet.ssrc] != nil || isGroup)
    }

    /// One packet of someone's video; true when it made a new picture.
    func receive(_ packet: RTPPacket, now: ContinuousClock.Instant) -> Bool {
        if peers[packet.ssrc] == nil {
            guard let admitted = expected[packet.ssrc] else { return false }
            // One stream per person: a member on a new leg (a new SSRC) replaces their old one.
            peers = peers.filter { $0.value.person != admitted.person }
            guard peers.count < Self.maximumPeers,
                let receiver = try? VideoReceiver(media: packet.ssrc, ssrc: ownSSRC, people: [admitted.person], opening: admitted.opening)
            else { return false }
            peers[packet.ssrc] = PeerVideo(person: admitted.person, receiver: receiver)
        }
        guard
            let shown = peers[packet.ssrc]?.receiver.receiveFrames(packet, at: seconds(now), clockMilliseconds: Self.wallMilliseconds)
        else { return false }
        // A new picture, not any packet: a late resend after the BYE does not turn it back on.
        if !shown.isEmpty { peers[packet.ssrc]?.cameraOff = false }
        if saveTo != nil, recordingProblem == nil { save(shown) }
        return !shown.isEmpty
    }

    /// An echo sends pictures at the size of the first it is shown, if that is a size a camera
    /// may have (`VideoSettings`), so a peer cannot make it encode whatever it likes; pictures
    /// of another size later are not echoed (Duet's cameras never change size in a call, and a
    /// new stream on the same SSRC would restart its sequence numbers under SRTP's window).
    private func echoSizeOf(_ picture: VideoFrame?) throws {
        // An echo is a 1:1 call's: its peer's picture.
        guard sender == nil, let picture, (try? VideoSettings(width: picture.width, height: picture.height)) != nil else { return }
        sender = try VideoSender(camera: SyntheticCamera(person: "echo", width: picture.width, height: picture.height), ssrc: ownSSRC)
    }

    /// Where the frames shown are saved (`--save-video`), as IVF from the first picture on.
    var saveTo: URL?
    private var recording: IVFWriter?
    /// Why saving stopped (a full disk, a directory that went away); the call goes on.
    private(set) var recordingProblem: String?

    private func save(_ frames: [RTPAssembledFrame]) {
        guard let saveTo, !frames.isEmpty else { return }
        do {
            if recording == nil, let picture = peer?.receiver.picture {
                recording = try IVFWriter(url: saveTo, width: picture.width, height: picture.height)
            }
            for frame in frames { try recording?.append(frame.bytes, rtpTimestamp: frame.timestamp) }
        } catch {
            recordingProblem = "saving the video to \(saveTo.path) stopped: \(error.localizedDescription)"
            recording = nil
        }
    }

    /// Turns this side's camera off (the peer is told by an RTCP BYE, RFC 3550 §6.6) or back
    /// on (the next picture is a keyframe, and the pictures skipped while off are not caught
    /// up). False when this side has no camera.
    func setCamera(on: Bool, now: ContinuousClock.Instant) -> Bool {
        guard var sender else { return false }
        guard on != cameraOn else { return true }
        let camera = sender.camera
        cameraOn = on
        goodbyeOwed = !on
        if on {
            sender.sendKeyframeNext()
            self.sender = sender
            // The pictures of the time off are skipped, not caught up: RTP time goes on with
            // the clock (the receiver's jitter, a saved file's gaps), the next one is now's.
            if let first = firstPictureAt { picturesPassed = Int((now - first) / (Duration.seconds(1) / camera.framesPerSecond)) }
        }
        return true
    }

    /// The 1:1 peer's last picture, and this side's camera's (nil while it is off).
    /// What `newGroupPictures` last handed out: pictures shown and taken, whose camera was
    /// off, who was there — a camera going off or someone leaving is news too.
    private var groupPicturesHandedOut: (count: Int, off: Set<UInt32>, streams: Set<UInt32>)?

    /// A group call's pictures, when any is new since the last time.
    func newGroupPictures() -> GroupPictures? {
        let count = peers.values.reduce(picturesPassed) { $0 + $1.receiver.picturesShown }
        let now = (count: count, off: Set(peers.filter(\.value.cameraOff).keys), streams: Set(peers.keys))
        guard groupPicturesHandedOut.map({ $0 != now }) ?? true else { return nil }
        groupPicturesHandedOut = now
        var members: [String: VideoPicture] = [:]
        for peer in peers.values where !peer.cameraOff {
            if let picture = peer.receiver.picture { members[peer.person] = VideoPicture(picture) }
        }
        return GroupPictures(
            members: members, camerasOff: Set(peers.values.filter(\.cameraOff).map(\.person)),
            own: cameraOn ? sender?.lastPicture.map(VideoPicture.init) : nil)
    }

    var pictures: (peer: VideoFrame?, own: VideoFrame?) {
        (peer.flatMap { $0.cameraOff ? nil : $0.receiver.picture }, cameraOn ? sender?.lastPicture : nil)
    }

    /// RTCP from the peer: feedback for this side's stream (what to send again waits for the
    /// next round), its sender report for the next receiver report.
    func receive(_ packets: [RTCPPacket], now: ContinuousClock.Instant) throws {
        let time = seconds(now)
        for packet in packets {
            if case let .senderReport(report) = packet { peers[report.sender]?.receiver.senderReported(report, at: time) }
            if case let .goodbye(sources) = packet {
                for source in sources where peers[source]?.cameraOff == false {
                    peers[source]?.cameraOff = true
                    peers[source]?.receiver.senderStopped()
                }
            }
            if let sent = try sender?.handle(packet, at: time) { pending += sent }
        }
    }

    /// What leaves now: packets sent again, the pictures due, feedback, and once a second the
    /// reports — RTP protected by `srtp`, RTCP by `protectRTCP`.
    func due(now: ContinuousClock.Instant, srtp: SRTPSession) throws -> [[UInt8]] {
        var out = pending
        pending = []
        if echoes { try echoSizeOf(peer?.receiver.picture) }
        if let camera = sender?.camera, cameraOn {
            let first = firstPictureAt ?? now
            firstPictureAt = first
            let frameTime = Duration.seconds(1) / camera.framesPerSecond
            let due = Int((now - first) / frameTime) + 1
            while picturesPassed < due {
                let index = picturesPassed
                picturesPassed += 1
                guard due - index <= Self.catchUp else { continue }
                if echoes {
                    guard let picture = peer?.receiver.picture, picture.width == camera.width, picture.height == camera.height else {
                        continue
                    }
                    out += try sender?.send(picture, index: index, srtp: srtp) ?? []
                } else {
                    out += try sender?.nextPicture(index: index, stampMilliseconds: Self.wallMilliseconds, srtp: srtp) ?? []
                }
            }
        }
        let time = seconds(now)
        var rtcp: [RTCPPacket] = []
        for ssrc in peers.keys { rtcp += peers[ssrc]?.receiver.feedback(at: time) ?? [] }
        // Reports once a second, and only about what flows: a call without video sends no RTCP.
        // While the camera is off its BYE goes again with each, in case one was lost.
        let heard = peers.keys.filter { peers[$0]?.receiver.hasReceived == true }
        if sender != nil || !heard.isEmpty, goodbyeOwed || lastReport.map({ now - $0 >= .seconds(1) }) ?? true {
            lastReport = now
            // The saved file is whole up to here, should the process end without closing it.
            try? recording?.flush()
            goodbyeOwed = false
            if let sender, cameraOn { rtcp.insert(.senderReport(sender.senderReport(ntpTime: Self.ntpTime)), at: 0) }
            for ssrc in heard { if let report = peers[ssrc]?.receiver.report(at: time) { rtcp.append(report) } }
            if let sender, !cameraOn {
                // A compound packet starts with a report (RFC 3550 §6.1), an empty one if need be.
                if heard.isEmpty { rtcp.append(.receiverReport(sender: sender.ssrc, reports: [])) }
                rtcp.append(.goodbye(sources: [sender.ssrc]))
            }
        }
        if !rtcp.isEmpty {
            var compound = RTCPPacket.encode(rtcp)
            try srtp.protectRTCP(inPlace: &compound)
            out.append(compound)
        }
        return out
    }

    /// Now as NTP time (seconds since 1900, 32.32 fixed point), for sender reports.
    static var ntpTime: UInt64 {
        let now = Date().timeIntervalSince1970 + 2_208_988_800
        return UInt64(now) << 32 | UInt64((now - now.rounded(.down)) * 4_294_967_296)
    }
}
