/// An IP address and UDP port as STUN and TURN carry them (XOR-MAPPED-ADDRESS and kin).
public struct TransportAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public let ip: [UInt8]
    public let port: UInt16

    public init(ip: [UInt8], port: UInt16) {
        precondition(ip.count == 4 || ip.count == 16, "an IP address is 4 or 16 bytes")
        self.ip = ip
        self.port = port
    }

    /// Parses dotted IPv4 text ("127.0.0.1").
    public init?(ipv4 text: String, port: UInt16) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard parts.count == 4 else { return nil }
        self.init(ip: parts, port: port)
    }

    public var description: String {
        if ip.count == 4 { return ip.map(String.init).joined(separator: ".") + ":\(port)" }
        let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(ip[$0]) << 8 | UInt16(ip[$0 + 1]), radix: 16) }
        return "[" + groups.joined(separator: ":") + "]:\(port)"
    }

    /// RFC 8489 §14.2: the port is XORed with the cookie's top 16 bits, the address with the
    /// cookie (IPv4) or cookie ‖ transaction ID (IPv6).
    init(xored v: [UInt8], transactionID: [UInt8], attributeType: UInt16) throws(STUNError) {
        guard v.count >= 4 else { throw .badAttribute(type: attributeType, reason: "address too short") }
        let family = v[1]
        let mask = bytesOf(STUNMessage.magicCookie) + transactionID
        let port = readUInt16(v, 2) ^ UInt16(STUNMessage.magicCookie >> 16)
        switch (family, v.count) {
        case (0x01, 8): self.init(ip: (0..<4).map { v[4 + $0] ^ mask[$0] }, port: port)
        case (0x02, 20): self.init(ip: (0..<16).map { v[4 + $0] ^ mask[$0] }, port: port)
        default: throw .badAttribute(type: attributeType, reason: "unknown address family \(family) or wrong length \(v.count)")
        }
    }

    func xored(transactionID: [UInt8]) -> [UInt8] {
        let mask = bytesOf(STUNMessage.magicCookie) + transactionID
        let port = port ^ UInt16(STUNMessage.magicCookie >> 16)
        return [0, ip.count == 4 ? 0x01 : 0x02] + bytesOf(port) + ip.enumerated().map { $0.element ^ mask[$0.offset] }
    }
}
