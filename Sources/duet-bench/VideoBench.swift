import DuetClient
import DuetCrypto
import DuetMedia
import DuetTUI
import DuetWire
import Foundation

/// Video's cost on this machine (docs/video.md): VP8 encoding with the call's settings, the
/// whole send path against bare libvpx, drawing a call's pictures in the terminal, and how
/// long a receiver waits for a keyframe after an outage. CPU time of this thread, medians of
/// rounds; the path ratio interleaves its two candidates in each round.
enum VideoBench {
    static let rounds = 5
    /// Ten seconds of pictures at the default 15 fps.
    static let picturesPerRound = 150

    static func run(report: BenchReport) {
        do {
            for (width, height) in [(160, 120), (320, 180)] {
                let perFrame = try encodeSeconds(width: width, height: height)
                report.figure("vp8_encode_ms_per_frame_\(width)x\(height)", perFrame * 1000, unit: "ms")
                if width == 160 {
                    report.figure("video_encode_realtime_x", 1 / Double(SyntheticCamera.defaultFramesPerSecond) / perFrame, unit: "x")
                }
            }
            report.figure("video_frame_path_vs_vpx", try framePathRatio(), unit: "ratio")
            for (width, height) in [(80, 24), (200, 60)] {
                report.figure("tui_video_render_ms_\(width)x\(height)", renderSeconds(width: width, height: height) * 1000, unit: "ms")
            }
            let recovery = try KeyframeRecovery.measure()
            report.figure("keyframe_recovery_ms", recovery.milliseconds, unit: "ms")
            report.figure("keyframe_recovery_bound_ms", recovery.boundMilliseconds, unit: "ms")
        } catch {
            print("video_bench_error 1 error  # \(error)")
        }
    }

    /// The camera's pictures, drawn once (stamps fixed), so encoding is all that is timed.
    static func pictures(width: Int, height: Int) -> [VideoFrame] {
        let camera = SyntheticCamera(person: "+15550001", width: width, height: height)
        return (0..<picturesPerRound).map { camera.frame($0, stampMilliseconds: $0 * 66) }
    }

    /// CPU seconds per picture to encode `picturesPerRound` pictures with a fresh encoder.
    static func encodeSeconds(width: Int, height: Int) throws -> Double {
        let frames = pictures(width: width, height: height)
        var seconds: [Double] = []
        for _ in 0..<rounds {
            let encoder = try VP8Encoder(configuration: .init(width: width, height: height, framesPerSecond: 15, bitrate: 250_000))
            seconds.append(try OpusBench.cpuSeconds { for frame in frames { _ = try encoder.encode(frame) } })
        }
        return Timing.median(seconds) / Double(picturesPerRound)
    }

    /// The send path (camera → VP8 → RTP → SRTP, `VideoSender`) over bare libvpx encoding of
    /// the same pictures already drawn; target ≤ 1.2.
    static func framePathRatio() throws -> Double {
        let frames = pictures(width: 160, height: 120)
        var ratios: [Double] = []
        for _ in 0..<rounds {
            let key = SecureBytes(randomCount: SRTPProfile.aesCM128HMACSHA1_80.keyingMaterialLength)
            let srtp = try SRTPSession(role: .sender, masterKey: key)
            var sender = try VideoSender(camera: SyntheticCamera(person: "+15550001"), ssrc: 0x0D0E_7002)
            let path = try OpusBench.cpuSeconds {
                for index in 0..<picturesPerRound { _ = try sender.nextPicture(index: index, stampMilliseconds: index * 66, srtp: srtp) }
            }
            let encoder = try VP8Encoder()
            let bare = try OpusBench.cpuSeconds { for frame in frames { _ = try encoder.encode(frame) } }
            ratios.append(path / bare)
        }
        return Timing.median(ratios)
    }

    /// CPU seconds to draw the whole screen of a video call at `width` × `height` in true
    /// colour (new pictures each time, as in a call).
    static func renderSeconds(width: Int, height: Int) -> Double {
        var call = CallView(
            peerNumber: "+15550002", peerName: "Bob", peerTrust: .unverified, outgoing: true, state: .connected(.p2p), elapsedSeconds: 83)
        // New pictures both sides each time, as in a call (the drawn cells of a picture already
        // drawn are reused, so the same picture twice would time nothing).
        let peers = (0..<30).map { VideoPicture(cameraOf: "+15550002", index: $0) }
        let owns = (0..<30).map { VideoPicture(cameraOf: "+15550001", index: $0) }
        var state = TUIState(
            profile: "alice", ownNumber: "+15550001", server: ServerStatus(address: "192.0.2.1:7443", state: .connected, embedded: false),
            ownFingerprintShort: "1A2B 3C4D", contacts: [ContactRow(number: "+15550002", name: "Bob", trust: .unverified, online: true)],
            pane: .call, call: call)
        var seconds: [Double] = []
        for _ in 0..<rounds {
            seconds.append(
                OpusBench.cpuSeconds {
                    for (picture, own) in zip(peers, owns) {
                        call.video = CallVideo(peer: picture, own: own)
                        state.conversation = .call(call)
                        _ = ScreenRenderer.render(state, width: width, height: height, colours: .direct)
                    }
                })
        }
        return Timing.median(seconds) / Double(peers.count)
    }
}
