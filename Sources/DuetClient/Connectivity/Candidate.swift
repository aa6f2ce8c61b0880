import DuetWire

/// A transport address a peer may be reached at (RFC 8445 §5.1.1, the kinds Duet uses).
public struct Candidate: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// An address of one of the device's own interfaces.
        case host
        /// The address the server saw our packets come from (a STUN Binding answer).
        case serverReflexive = "srflx"
        /// An address on a TURN relay that forwards to us.
        case relay
    }

    public let kind: Kind
    public let ip: [UInt8]
    public let port: UInt16

    public init(kind: Kind, address: TransportAddress) {
        self.kind = kind
        self.ip = address.ip
        self.port = address.port
    }

    /// A candidate comes from the other device, which may be hostile: an address that is not
    /// 4 or 16 bytes is a decoding error, never a trap later.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        ip = try container.decode([UInt8].self, forKey: .ip)
        port = try container.decode(UInt16.self, forKey: .port)
        guard ip.count == 4 || ip.count == 16 else {
            throw DecodingError.dataCorruptedError(forKey: .ip, in: container, debugDescription: "an IP address is 4 or 16 bytes, not \(ip.count)")
        }
    }

    public var address: TransportAddress { TransportAddress(ip: ip, port: port) }

    /// Host candidates first: on one network they are the shortest path.
    public var preference: Int {
        switch kind {
        case .host: 126
        case .serverReflexive: 100
        case .relay: 0
        }
    }

    public var description: String { "\(kind.rawValue) \(address)" }
}
