import DuetMedia
import Foundation

/// A 1:1 call's video as the screens see it: the camera switch, the pictures handed to the
/// TUI, and the once-a-second `seeing` line (docs/video.md).
extension CallEngine {
    /// Turns this device's camera off or on during the call; the other side is told (an RTCP
    /// BYE) and shows "camera off". False when there is no call with video or no camera.
    @discardableResult
    public func setCamera(on: Bool) -> Bool {
        guard let video = call?.pump.video else { return false }
        return video.setCamera(on: on, now: .now)
    }

    /// Whether this device's camera is sending now (nil: no camera in this call).
    public var cameraOn: Bool? {
        guard let video = call?.pump.video, video.sender != nil else { return nil }
        return video.cameraOn
    }

    /// Each media tick: new pictures for a screen that asked for them (`CallOptions.showsPictures`),
    /// and the peer's camera going off or on.
    func showVideo() {
        guard let video = call?.pump.video, let shown = call?.videoShown else { return }
        let peerCameraOff = video.peer?.cameraOff ?? false
        if peerCameraOff != shown.peerCameraOff {
            call?.videoShown.peerCameraOff = peerCameraOff
            emit(.peerCamera(on: !peerCameraOff))
        }
        let peerPictures = video.peer?.receiver.picturesShown ?? 0
        guard options.showsPictures, peerPictures != shown.peerPictures || video.picturesPassed != shown.ownPictures else { return }
        call?.videoShown.peerPictures = peerPictures
        call?.videoShown.ownPictures = video.picturesPassed
        let pictures = video.pictures
        emit(.pictures(CallPictures(peer: pictures.peer.map(VideoPicture.init), own: pictures.own.map(VideoPicture.init))))
    }

    /// Once a second: what the peer's pictures showed, with the bitrate since the last line.
    func reportVideo() {
        guard let video = call?.pump.video, let shown = call?.videoShown else { return }
        if let problem = video.recordingProblem, !shown.recordingProblemShown {
            call?.videoShown.recordingProblemShown = true
            emit(.notice(.warning(.media, problem)))
        }
        for report in video.seeing(now: .now) {
            emit(
                .seeing(
                    SeeingReport(
                        report.seen, name: displayName(report.seen.person), peer: report.peer, kilobitsPerSecond: report.kilobitsPerSecond))
            )
        }
    }
}
