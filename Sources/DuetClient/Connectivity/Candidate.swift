import DuetWire

/// A transport address a peer may be reached at (RFC 8445 §5.1.1), with its priority.
public struct Candidate: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// An address of one of the device's own interfaces.
        case host
        /// An address a peer's check came from that it never announced: its NAT's mapping
        /// toward us (RFC 8445 §7.3.1.3). Learned, never sent.
        case peerReflexive = "prflx"
        /// The address the server saw our packets come from (a STUN Binding answer).
        case serverReflexive = "srflx"
        /// An address on a TURN relay that forwards to us.
        case relay

        /// RFC 8445 §5.1.2.2's recommended type preferences.
        public var typePreference: UInt32 {
            switch self {
            case .host: 126
            case .peerReflexive: 110
            case .serverReflexive: 100
            case .relay: 0
            }
        }
    }

    public let kind: Kind
    public let ip: [UInt8]
    public let port: UInt16
    /// RFC 8445 §5.1.2.1: 2²⁴·type preference + 2⁸·local preference + (256 − component).
    public let priority: UInt32

    /// `localPreference`: 65535 for the address this device prefers most, less for the rest.
    public init(kind: Kind, address: TransportAddress, localPreference: UInt16 = 65535) {
        self.kind = kind
        self.ip = address.ip
        self.port = address.port
        self.priority = Self.priority(kind, localPreference: localPreference)
    }

    /// A peer-reflexive candidate keeps the priority its check announced (RFC 8445 §7.3.1.3).
    init(peerReflexive address: TransportAddress, priority: UInt32) {
        kind = .peerReflexive
        ip = address.ip
        port = address.port
        self.priority = priority
    }

    /// The priority of a candidate of `kind` on this device's one media component.
    public static func priority(_ kind: Kind, localPreference: UInt16 = 65535) -> UInt32 {
        kind.typePreference << 24 | UInt32(localPreference) << 8 | (256 - 1)
    }

    /// A candidate comes from the other device, which may be hostile: an address that is not
    /// 4 or 16 bytes, or a kind only learned locally, is a decoding error, never a trap later.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        ip = try container.decode([UInt8].self, forKey: .ip)
        port = try container.decode(UInt16.self, forKey: .port)
        priority = try container.decodeIfPresent(UInt32.self, forKey: .priority) ?? Self.priority(kind)
        guard ip.count == 4 || ip.count == 16 else {
            throw DecodingError.dataCorruptedError(
                forKey: .ip, in: container, debugDescription: "an IP address is 4 or 16 bytes, not \(ip.count)")
        }
        guard kind != .peerReflexive else {
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container, debugDescription: "a peer-reflexive candidate is learned, never announced")
        }
        guard port != 0, !address.isUnspecified else {
            throw DecodingError.dataCorruptedError(
                forKey: .ip, in: container, debugDescription: "\(address) is not an address anything can be sent to")
        }
    }

    public var address: TransportAddress { TransportAddress(ip: ip, port: port) }

    public var description: String { "\(kind.rawValue) \(address)" }
}
