import DuetCrypto
import DuetWire
import Testing

@testable import DuetMedia

/// One video stream end to end without sockets: `VideoSender` → SRTP → a channel that loses
/// packets → `VideoReceiver`, with the receiver's RTCP fed back to the sender each frame time.
/// NACKs bring lost packets back, a PLI brings a keyframe when they cannot, and receiver
/// reports of loss lower the bitrate.
@Suite("Video stream: sender, receiver and their RTCP")
struct VideoStreamTests {
    struct Stream {
        var sender: VideoSender
        var receiver: VideoReceiver
        let protect: SRTPSession
        let unprotect: SRTPSession

        init() throws {
            let key = SecureBytes(randomCount: 30)
            sender = try VideoSender(camera: SyntheticCamera(person: "+15557001"), ssrc: 0x1111, bitrate: 200_000)
            receiver = try VideoReceiver(media: 0x1111, ssrc: 0x2222, people: ["+15557001", "+15557002"])
            protect = try SRTPSession(role: .sender, masterKey: key)
            unprotect = try SRTPSession(role: .receiver, masterKey: key)
        }

        /// Runs `pictures` frame times; `lose` decides which packets (first sends and resends,
        /// in the order sent) the channel drops. Feedback goes back every frame time.
        mutating func run(_ pictures: Int, from start: Int = 0, lose: (Int) -> Bool) throws {
            try run(pictures, from: start) { count, _ in lose(count) }
        }

        /// As `run`, `lose` told each packet's sequence number too (RTP's header is in the clear).
        mutating func run(_ pictures: Int, from start: Int = 0, lose: (Int, UInt16) -> Bool) throws {
            var sent = 0
            for index in start..<(start + pictures) {
                let time = Double(index) / 15
                var packets = try sender.nextPicture(index: index, stampMilliseconds: index * 66, srtp: protect)
                while !packets.isEmpty {
                    for bytes in packets {
                        defer { sent += 1 }
                        guard !lose(sent, UInt16(bytes[2]) << 8 | UInt16(bytes[3])) else { continue }
                        receiver.receive(try RTPPacket(parsing: try unprotect.unprotect(bytes)), at: time)
                    }
                    packets = []
                    for feedback in receiver.feedback(at: time) { packets += try sender.handle(feedback, at: time) }
                }
            }
        }
    }

    @Test func aCleanStreamShowsEveryPictureOfItsPerson() throws {
        var stream = try Stream()
        try stream.run(45) { _ in false }
        let seen = stream.receiver.seen(at: 3)
        #expect(stream.receiver.picturesShown == 45)
        #expect(seen.person == "+15557001" && seen.framesSeen == 45 && seen.unreadable == 0)
        #expect(stream.receiver.keyframeRequests == 0 && stream.sender.packetsResent == 0)
    }

    @Test func lostPacketsComeBackByNACKAndNoPictureIsLost() throws {
        var stream = try Stream()
        // Every 7th packet sent is lost once; resends always arrive (they are later in the count).
        var lostOnce: Set<Int> = []
        try stream.run(60) { index in
            guard index % 7 == 3, !lostOnce.contains(index) else { return false }
            lostOnce.insert(index)
            return true
        }
        #expect(stream.sender.packetsResent > 0)
        #expect(stream.receiver.picturesShown == 60, "\(stream.receiver.picturesShown) of 60")
        #expect(stream.receiver.keyframeRequests == 0)
    }

    /// A NACK or the packet sent again can be lost too: the receiver asks again when the repair
    /// is late (later than the one repair it has seen, here within a frame time), as often as
    /// the sender sends a packet again, and then no more.
    @Test func aPacketWhoseResendIsLostIsAskedForAgain() throws {
        for lostSends in [RetransmissionBuffer.maximumResends, RetransmissionBuffer.maximumResends + 1] {
            var stream = try Stream()
            var target: UInt16?
            var losses = 0
            try stream.run(60) { count, sequence in
                if count == 5 { return true }
                if count == 20 { target = sequence }
                guard sequence == target, losses < lostSends else { return false }
                losses += 1
                return true
            }
            if lostSends == RetransmissionBuffer.maximumResends {
                #expect(stream.sender.packetsResent == 1 + lostSends)
                #expect(
                    stream.receiver.picturesShown == 60 && stream.receiver.keyframeRequests == 0, "\(stream.receiver.picturesShown) of 60")
            } else {
                #expect(stream.sender.packetsResent == 1 + RetransmissionBuffer.maximumResends, "the sender sends a packet again no more")
                #expect(stream.receiver.keyframeRequests >= 1)
            }
        }
    }

    @Test func whenPacketsStayLostAKeyframeIsAskedForAndThePictureComesBack() throws {
        var stream = try Stream()
        try stream.run(15) { _ in false }
        // Frame time 15–29, a second: everything sent is lost — too long a gap to ask for again.
        try stream.run(15, from: 15) { _ in true }
        let before = stream.receiver.picturesShown
        try stream.run(30, from: 30) { _ in false }
        #expect(stream.receiver.keyframeRequests >= 1)
        #expect(stream.sender.keyframesAsked >= 1)
        // Back within a frame or two of the request: 30 frame times, nearly all shown.
        #expect(stream.receiver.picturesShown - before >= 28, "\(stream.receiver.picturesShown - before) of 30 after the outage")
        #expect(VideoTag.read(from: try #require(stream.receiver.picture))?.frame == 59)
    }

    @Test func tenPercentRandomLossStillShowsNearlyEveryPicture() throws {
        var stream = try Stream()
        var random = SeededRandom(seed: 7)
        try stream.run(150) { _ in Int.random(in: 0..<10, using: &random) == 0 }
        // A packet is lost for good only if its resends are lost too, and then a keyframe
        // repairs the picture within a round of feedback.
        #expect(stream.receiver.picturesShown >= 135, "\(stream.receiver.picturesShown) of 150 pictures shown")
        #expect(stream.receiver.seen(at: 10).person == "+15557001")
    }

    @Test func reportsOfLossLowerTheBitrateAndCleanOnesRaiseItSlowly() throws {
        var stream = try Stream()
        let start = stream.sender.bitrate
        let lossy = RTCPReportBlock(
            source: 0x1111, fractionLost: 64, cumulativeLost: 10, highestSequence: 100, jitter: 0, lastSenderReport: 0,
            delaySinceLastSenderReport: 0)
        _ = try stream.sender.handle(.receiverReport(sender: 0x2222, reports: [lossy]), at: 1)
        #expect(stream.sender.bitrate < start)
        let lowered = stream.sender.bitrate
        var clean = lossy
        clean.fractionLost = 0
        _ = try stream.sender.handle(.receiverReport(sender: 0x2222, reports: [clean]), at: 3)
        #expect(stream.sender.bitrate > lowered && stream.sender.bitrate < start)
        // A report about another stream changes nothing.
        clean.source = 0x9999
        let now = stream.sender.bitrate
        _ = try stream.sender.handle(
            .receiverReport(
                sender: 0x2222,
                reports: [lossy, clean].map {
                    var b = $0
                    b.source = 0x9999
                    return b
                }), at: 5)
        #expect(stream.sender.bitrate == now)
        // The receiver's own report reads the stream it got.
        try stream.run(15) { $0 == 5 }
        guard case let .receiverReport(sender, blocks) = stream.receiver.report(at: 1) else { throw ReportMissing() }
        #expect(sender == 0x2222 && blocks.first?.source == 0x1111)
    }

    struct ReportMissing: Error {}
}
