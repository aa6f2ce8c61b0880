/// Payload types and clock rates Duet puts on the wire.
///
/// Opus has no static payload type; RFC 7587 leaves it to signaling, and 111 is the number
/// WebRTC endpoints conventionally offer, so packet captures read naturally in Wireshark.
public enum RTPPayloadType {
    /// Opus (RFC 7587), Duet's voice.
    public static let opus: UInt8 = 111
    /// RFC 7587 §4.1: the Opus RTP clock is always 48 kHz, whatever the encoder's rate.
    public static let opusClockRate: UInt32 = 48_000
    /// Timestamp ticks in one 20 ms Opus frame at 48 kHz.
    public static let opusSamplesPerFrame: UInt32 = 960
    /// VP8 (RFC 7741), Duet's video: 96, the number WebRTC endpoints conventionally offer.
    public static let vp8: UInt8 = 96
    /// RFC 7741 §4.1: a 90 kHz clock.
    public static let vp8ClockRate: UInt32 = 90_000
}
