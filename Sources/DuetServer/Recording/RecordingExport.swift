/// What `RecordingVault.export` wrote.
public struct RecordingExport: Sendable, Equatable {
    /// Bytes of Ogg Opus written to the destination.
    public let byteCount: Int
    /// False when the recording stops before its end — the server stopped, or its disk filled,
    /// while recording: the export then holds every authenticated chunk up to the last whole
    /// Ogg page, and nothing after it.
    public let isComplete: Bool
    /// Seconds a player plays (from the last page's granule position).
    public let audioSeconds: Double
}
