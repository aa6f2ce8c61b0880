extension Duration {
    /// The duration in seconds as a Double: the clocks of the media code (RTCP statistics,
    /// the video receiver, the relay client) count in seconds since a start.
    public var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
