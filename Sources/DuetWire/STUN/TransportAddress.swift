#if canImport(Glibc)
    import Glibc
#endif

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

    /// The address bytes in one combine rather than one per byte: the media port looks an
    /// address up several times for every datagram it forwards.
    public func hash(into hasher: inout Hasher) {
        ip.withUnsafeBytes { hasher.combine(bytes: $0) }
        hasher.combine(port)
    }

    /// Parses dotted IPv4 text ("127.0.0.1").
    public init?(ipv4 text: String, port: UInt16) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard parts.count == 4 else { return nil }
        self.init(ip: parts, port: port)
    }

    /// IPv6 as RFC 5952 writes it (`[::1]:7401`, as people and other tools do), IPv4 dotted.
    public var description: String { ip.count == 4 ? "\(ipText):\(port)" : "[\(ipText)]:\(port)" }

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

extension TransportAddress {
    /// Parses an IP literal, IPv4 ("192.0.2.1") or IPv6 ("2001:db8::1", brackets allowed);
    /// nil for anything else (a host name is resolved elsewhere, not here).
    public init?(literal text: String, port: UInt16) {
        if let v4 = TransportAddress(ipv4: text, port: port) {
            self = v4
            return
        }
        var bare = Substring(text)
        if bare.hasPrefix("["), bare.hasSuffix("]") { bare = bare.dropFirst().dropLast() }
        guard bare.contains(":"), !bare.contains("%") else { return nil }
        var raw = in6_addr()
        guard inet_pton(AF_INET6, String(bare), &raw) == 1 else { return nil }
        self.init(ip: withUnsafeBytes(of: &raw) { Array($0) }, port: port)
    }

    /// The IP as text, without the port (IPv6 unbracketed).
    public var ipText: String {
        if ip.count == 4 { return ip.map(String.init).joined(separator: ".") }
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: ip) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(cString: buffer)
    }

    /// 0.0.0.0 or :: — a wildcard a socket is bound to, never an address to send to.
    public var isUnspecified: Bool { ip.allSatisfy { $0 == 0 } }

    /// 127.0.0.0/8 or ::1.
    public var isLoopback: Bool {
        ip.count == 4 ? ip[0] == 127 : ip.dropLast().allSatisfy { $0 == 0 } && ip[15] == 1
    }

    /// An IPv6 address that carries an IPv4 one (::ffff:a.b.c.d), as a dual-stack socket
    /// reports IPv4 peers; nil for any other address.
    public var unmappedIPv4: TransportAddress? {
        guard ip.count == 16, ip[0..<10].allSatisfy({ $0 == 0 }), ip[10] == 0xFF, ip[11] == 0xFF else { return nil }
        return TransportAddress(ip: Array(ip[12..<16]), port: port)
    }

    /// The IPv4-mapped IPv6 form (::ffff:a.b.c.d) of an IPv4 address, for a dual-stack socket to
    /// send to; an IPv6 address stays as it is.
    public var mappedToIPv6: TransportAddress {
        guard ip.count == 4 else { return self }
        return TransportAddress(ip: [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + ip, port: port)
    }
}
