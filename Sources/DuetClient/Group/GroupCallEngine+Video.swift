import DuetMedia

/// A group call's video (docs/video.md "Group calls").
extension GroupCallEngine {
    /// Video both ways on the call's leg (docs/video.md "Group calls"): this camera's frames
    /// sealed under this device's sender key, each member's stream admitted once its audio
    /// SSRC (one less) is known to be theirs, and opened with their keys.
    func startVideo() {
        guard let active = call else { return }
        let camera = options.video.map {
            SyntheticCamera(person: number, width: $0.width, height: $0.height, framesPerSecond: $0.framesPerSecond)
        }
        do {
            active.media.pump.video = try VideoMedia(
                camera: camera, ownAudioSSRC: active.media.pump.outbound.ssrc, sealing: active.ring.sender,
                admit: { [ring = active.ring] ssrc in
                    guard let member = self.call?.ssrcOwners[ssrc &- 1], let opening = ring.receiver(of: member) else { return nil }
                    return (member, opening)
                })
        } catch {
            eventSink.yield(.notice(.warning(.media, "video could not start: \(error)")))
        }
    }
}
