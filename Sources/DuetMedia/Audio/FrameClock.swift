/// The 20 ms beat that media loops run on (one Opus frame): it sleeps to each frame's time
/// on the continuous clock, so frames do not drift, and after falling far behind (a busy
/// machine) it starts afresh instead of bursting the missed frames out at once.
public struct FrameClock: Sendable {
    private var next = ContinuousClock.now
    /// Frames ticked so far.
    public private(set) var ticks = 0

    public init() {}

    /// Waits for the next frame's time; false once the task is cancelled. A frame already due
    /// (the loop woke late) is returned at once: on a busy machine every wake-up comes late,
    /// and a loop that slept once per frame would then make only one frame per wake-up —
    /// half its frames, if wake-ups came 40 ms apart.
    public mutating func nextFrame() async -> Bool {
        next += .milliseconds(AudioFormat.frameDurationMilliseconds)
        let now = ContinuousClock.now
        if next < now - .milliseconds(200) { next = now }
        if next > now { try? await Task.sleep(until: next) }
        ticks += 1
        return !Task.isCancelled
    }

    /// True on the frame that completes each second (for once-a-second reports).
    public var completesSecond: Bool { ticks % (1000 / AudioFormat.frameDurationMilliseconds) == 0 }
}
