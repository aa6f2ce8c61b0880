import DuetWire

/// Everything the media port could keep of the calls it carries, handed to an observer as it
/// passes: what the relay forwards between two devices, and each group-call or meeting frame
/// as the SFU holds it after opening the device's client-to-server SRTP. The demo and tests
/// use it to show what a curious operator would see — ciphertext for calls, plain Opus for
/// meetings (which are cloud-encrypted by design). `duet server` never sets one.
public struct MediaWitness: Sendable {
    /// A datagram the relay forwarded between a device and its peer (either way), as the
    /// sender wrote it, without the TURN framing.
    public var relayed: @Sendable (_ datagram: [UInt8]) -> Void
    /// An RTP packet the SFU routed (after opening its SRTP), in a group call's or a meeting's room.
    public var routed: @Sendable (_ room: SFURoomID, _ participant: String, _ packet: RTPPacket) -> Void

    public init(
        relayed: @escaping @Sendable ([UInt8]) -> Void,
        routed: @escaping @Sendable (_ room: SFURoomID, _ participant: String, _ packet: RTPPacket) -> Void
    ) {
        self.relayed = relayed
        self.routed = routed
    }
}
