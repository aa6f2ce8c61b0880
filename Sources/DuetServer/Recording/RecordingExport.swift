/// What `RecordingVault.export` wrote.
public struct RecordingExport: Sendable, Equatable {
    /// Bytes written to the destination.
    public let byteCount: Int
    /// False when the recording stops before its end — the server stopped, or its disk filled,
    /// while recording: the export then holds every authenticated chunk up to the last whole
    /// Ogg page, and nothing after it.
    public let isComplete: Bool
    /// Seconds a player plays (from the last page's granule position).
    public let audioSeconds: Double
    /// Pictures written (a WebM export; none in Ogg Opus, or with no camera on).
    public let videoFrames: Int

    public init(byteCount: Int, isComplete: Bool, audioSeconds: Double, videoFrames: Int = 0) {
        self.byteCount = byteCount
        self.isComplete = isComplete
        self.audioSeconds = audioSeconds
        self.videoFrames = videoFrames
    }
}
