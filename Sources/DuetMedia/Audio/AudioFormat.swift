/// The one audio format every Duet media path uses: 48 kHz mono, 20 ms frames.
public enum AudioFormat {
    public static let sampleRate = 48_000
    public static let channels = 1
    public static let frameDurationMilliseconds = 20
    /// Samples in one 20 ms frame.
    public static let samplesPerFrame = sampleRate * frameDurationMilliseconds / 1000
}
