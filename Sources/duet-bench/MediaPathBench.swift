import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// One voice frame's whole way through a 1:1 call, on one thread: Opus encode → RTP packetize
/// → SRTP protect → SRTP unprotect → RTP parse → jitter buffer → Opus decode, with the call's
/// settings (docs/performance.md "media_path_us_per_frame"). The mouth-to-ear budget is 150 ms;
/// the codec and the crypto must use a small part of one millisecond of it, every 20 ms, per
/// stream. Times are the thread's CPU time (`OpusBench`), the median of several rounds; the
/// synthetic source's samples are made before the clock starts, as a microphone's would be.
enum MediaPathBench {
    static let rounds = 7
    static let framesPerRound = 250

    static func run(report: BenchReport) {
        do {
            var voice = SyntheticVoice(number: "+15551234")
            let frames = (0..<framesPerRound).map { _ in voice.nextFrame() }
            var perFrame: [Double] = []
            for round in 0..<(rounds + 1) {  // the first round warms up
                var path = try Path()
                let seconds = try OpusBench.cpuSeconds { for frame in frames { try path.carry(frame) } }
                // The jitter buffer holds its depth (a frame or two) back at the end.
                guard path.decoded >= framesPerRound - 3 else { throw PathFailure(decoded: path.decoded) }
                if round > 0 { perFrame.append(seconds / Double(framesPerRound) * 1e6) }
            }
            report.figure("media_path_us_per_frame", Timing.median(perFrame), unit: "us")
            report.figure("media_path_vs_frame_time", Timing.median(perFrame) / 20_000, unit: "ratio")
        } catch {
            print("media_path_error 1 error  # \(error)")
        }
    }

    /// A sender's and a receiver's halves of one stream, the call's default SRTP profile.
    private struct Path {
        let encoder: OpusEncoder
        let decoder: OpusDecoder
        var packetizer = RTPPacketizer(ssrc: 0x0D0E_7001, initialSequenceNumber: 1, initialTimestamp: 0)
        let sender: SRTPSession
        let receiver: SRTPSession
        var jitter = JitterBuffer()
        var decoded = 0

        init() throws {
            encoder = try OpusEncoder()
            decoder = try OpusDecoder()
            let key = SecureBytes(randomCount: SRTPProfile.aesCM128HMACSHA1_80.keyingMaterialLength)
            sender = try SRTPSession(profile: .aesCM128HMACSHA1_80, role: .sender, masterKey: key)
            receiver = try SRTPSession(profile: .aesCM128HMACSHA1_80, role: .receiver, masterKey: key)
        }

        mutating func carry(_ frame: [Int16]) throws {
            var bytes = try packetizer.packetize(try encoder.encode(frame)).serialized()
            try sender.protect(inPlace: &bytes)
            try receiver.unprotect(inPlace: &bytes)
            let packet = try RTPPacket(parsing: bytes)
            _ = jitter.insert(
                JitterBuffer.Packet(
                    sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                    arrival: .milliseconds(Int(packet.timestamp / 48)), payload: packet.payload))
            if case let .packet(payload) = jitter.nextFrame() {
                _ = try decoder.decode(payload)
                decoded += 1
            }
        }
    }

    struct PathFailure: Error, CustomStringConvertible {
        let decoded: Int
        var description: String { "only \(decoded) of \(framesPerRound) frames came out decoded" }
    }
}
