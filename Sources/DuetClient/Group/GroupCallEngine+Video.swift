import DuetMedia
import Foundation

/// A group call's video (docs/video.md "Group calls").
extension GroupCallEngine {
    /// Video both ways on the call's leg (docs/video.md "Group calls"): this camera's frames
    /// sealed under this device's sender key; each member's stream is expected once their
    /// audio SSRC is known to be theirs (`learn`), and opened with their keys.
    func startVideo() {
        guard let active = call else { return }
        let camera = options.video.map {
            SyntheticCamera(person: number, width: $0.width, height: $0.height, framesPerSecond: $0.framesPerSecond)
        }
        do {
            active.media.pump.video = try VideoMedia(
                camera: camera, ownAudioSSRC: active.media.pump.outbound.ssrc, sealing: active.ring.sender)
        } catch {
            eventSink.yield(.notice(.warning(.media, "video could not start: \(error)")))
        }
    }

    /// Turns this device's camera off or on during the call; the others are told (an RTCP BYE
    /// through the SFU) and show "camera off". False when there is no call or no camera.
    @discardableResult
    public func setCamera(on: Bool) -> Bool {
        call?.media.pump.video?.setCamera(on: on, now: .now) ?? false
    }

    /// Whether this device's camera is sending now (nil: no camera in this call).
    public var cameraOn: Bool? {
        guard let video = call?.media.pump.video, video.sender != nil else { return nil }
        return video.cameraOn
    }

    /// Each media tick, for a screen that asked (`Options.showsPictures`): the pictures, when
    /// any is new.
    func showVideo() {
        guard options.showsPictures, let video = call?.media.pump.video, let pictures = video.newGroupPictures() else { return }
        eventSink.yield(.pictures(pictures))
    }

    /// Once a second: what each member's pictures showed.
    func reportVideo() {
        guard let seen = call?.media.pump.video?.seeing(now: .now), !seen.isEmpty else { return }
        eventSink.yield(
            .seeing(seen.map { SeeingReport($0.seen, name: $0.person, peer: $0.peer, kilobitsPerSecond: $0.kilobitsPerSecond) }))
    }
}
