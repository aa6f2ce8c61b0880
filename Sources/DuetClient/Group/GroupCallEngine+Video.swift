import DuetMedia

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
}
