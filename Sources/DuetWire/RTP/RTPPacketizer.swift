/// Stamps a stream of encoded frames into RTP packets for one sender (one SSRC).
///
/// RFC 3550 §5.1 wants random initial sequence numbers and timestamps (so a known-plaintext
/// attack on the first packet is harder and streams restart distinguishably); both wrap
/// modulo 2^16 and 2^32. The marker bit is set on the first packet of each talkspurt
/// (RFC 3551 §4.1), which for a continuous synthetic source is the first packet sent.
public struct RTPPacketizer: Sendable {
    public let ssrc: UInt32
    public let payloadType: UInt8
    /// Timestamp ticks per frame: 960 for 20 ms of Opus at 48 kHz.
    public let timestampIncrement: UInt32
    /// The sequence number the next packet will carry.
    public private(set) var nextSequenceNumber: UInt16
    /// The timestamp the next packet will carry.
    public private(set) var nextTimestamp: UInt32
    private var markNextPacket = true

    public init(
        ssrc: UInt32,
        payloadType: UInt8 = RTPPayloadType.opus,
        timestampIncrement: UInt32 = RTPPayloadType.opusSamplesPerFrame,
        initialSequenceNumber: UInt16 = .random(in: .min ... .max),
        initialTimestamp: UInt32 = .random(in: .min ... .max)
    ) {
        self.ssrc = ssrc
        self.payloadType = payloadType
        self.timestampIncrement = timestampIncrement
        self.nextSequenceNumber = initialSequenceNumber
        self.nextTimestamp = initialTimestamp
    }

    /// The packet for the next frame; advances sequence number and timestamp.
    public mutating func packetize(_ payload: [UInt8], headerExtension: RTPHeaderExtension? = nil) -> RTPPacket {
        let packet = RTPPacket(
            payloadType: payloadType, sequenceNumber: nextSequenceNumber, timestamp: nextTimestamp, ssrc: ssrc,
            marker: markNextPacket, headerExtension: headerExtension, payload: payload
        )
        markNextPacket = false
        nextSequenceNumber &+= 1
        nextTimestamp &+= timestampIncrement
        return packet
    }

    /// Frames that were not sent (discontinuous transmission): time moves on, the sequence
    /// does not, and the next packet starts a new talkspurt.
    public mutating func skipFrames(_ count: UInt32) {
        nextTimestamp &+= timestampIncrement &* count
        markNextPacket = true
    }
}
