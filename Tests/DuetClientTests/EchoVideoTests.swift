import DuetCrypto
import DuetMedia
import DuetWire
import Foundation
import Testing

@testable import DuetClient

/// The Echo Test's video (docs/video.md "Bots"): it sends back the pictures it is shown at
/// their size, but only at a size a camera may have, so a caller cannot crash it or make it
/// encode whatever size it likes.
@Suite("Echo Test video")
struct EchoVideoTests {
    /// The SRTP packets of `count` VP8 pictures of `width` × `height` on SSRC `ssrc` + 1.
    static func stream(width: Int, height: Int, count: Int, ssrc: UInt32) throws -> [RTPPacket] {
        let encoder = try VP8Encoder(configuration: .init(width: width, height: height, framesPerSecond: 15, bitrate: 200_000))
        var packets: [RTPPacket] = []
        var sequence: UInt16 = 1
        for index in 0..<count {
            var picture = VideoFrame(width: width, height: height, luma: UInt8(40 + index), cb: 90, cr: 200)
            picture.fill(x: index % width, y: 0, width: 4, height: 4, colour: .white)
            for frame in try encoder.encode(picture) {
                let payloads = VP8Payload.packetize(frame.bytes, pictureID: UInt16(index), maximumPayload: 1_000)
                for (offset, payload) in payloads.enumerated() {
                    packets.append(
                        RTPPacket(
                            payloadType: RTPPayloadType.vp8, sequenceNumber: sequence, timestamp: UInt32(index * 6_000),
                            ssrc: VideoMedia.ssrc(forAudio: ssrc), marker: offset == payloads.count - 1, headerExtension: nil,
                            payload: payload))
                    sequence &+= 1
                }
            }
        }
        return packets
    }

    /// Feeds the echo `packets`, runs its clock for a second, and returns what it sent.
    static func echo(_ packets: [RTPPacket]) throws -> (video: VideoMedia, sent: Int) {
        let video = try VideoMedia(camera: nil, ownAudioSSRC: 100, peerAudioSSRC: 200, people: ["+15550001"], echoes: true)
        let srtp = try SRTPSession(role: .sender, masterKey: SecureBytes(randomCount: SRTPProfile.aesCM128HMACSHA1_80.keyingMaterialLength))
        let start = ContinuousClock.now
        var sent = 0
        for (index, packet) in packets.enumerated() {
            _ = video.receive(packet, now: start + .milliseconds(index))
            sent += try video.due(now: start + .milliseconds(index * 20), srtp: srtp).filter { !RTCPPacket.isRTCP($0) }.count
        }
        return (video, sent)
    }

    @Test func aPictureOfACameraSizeIsSentBack() throws {
        let (video, sent) = try Self.echo(try Self.stream(width: 96, height: 72, count: 20, ssrc: 200))
        #expect((video.peer?.receiver.picturesShown ?? 0) >= 19)
        #expect(video.sender?.camera.width == 96 && sent > 0)
    }

    @Test(arguments: [(64, 48), (1280, 2), (1280, 720)])
    func aPictureNoCameraWouldTakeIsNotEchoed(_ size: (Int, Int)) throws {
        let (video, sent) = try Self.echo(try Self.stream(width: size.0, height: size.1, count: 3, ssrc: 200))
        #expect((video.peer?.receiver.picturesShown ?? 0) >= 1, "the picture itself is shown")
        #expect(video.sender == nil && sent == 0, "\(size) echoed")
    }
}
