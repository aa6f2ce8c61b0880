/// What a datagram on the media port is, from its first byte (RFC 7983 §7, with TURN
/// channels from RFC 7983's update in RFC 9443): one UDP port carries all of them.
public enum MediaPacketKind: Equatable, Sendable {
    case stun
    case dtls
    case turnChannel
    case rtp
    case unknown

    public init(firstByte: UInt8) {
        switch firstByte {
        case 0...3: self = .stun
        case 20...63: self = .dtls
        case 64...79: self = .turnChannel
        case 128...191: self = .rtp
        default: self = .unknown
        }
    }

    /// Classifies a datagram; an empty one is `.unknown`.
    public init(datagram: some Collection<UInt8>) {
        self = datagram.first.map(MediaPacketKind.init(firstByte:)) ?? .unknown
    }
}
