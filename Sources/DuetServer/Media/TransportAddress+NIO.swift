import DuetWire
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

extension TransportAddress {
    /// The STUN form of a socket address; nil for Unix-domain addresses, which UDP never has.
    init?(_ address: SocketAddress) {
        guard let port = address.port, let portValue = UInt16(exactly: port) else { return nil }
        switch address {
        case let .v4(v4): self.init(ip: withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }, port: portValue)
        case let .v6(v6): self.init(ip: withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }, port: portValue)
        case .unixDomainSocket: return nil
        }
    }

    /// The address to send to, made straight from the bytes: the media port makes one for
    /// every datagram it sends. `ip` is always 4 or 16 bytes (TransportAddress guarantees it).
    var socketAddress: SocketAddress {
        if ip.count == 4 {
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &v4.sin_addr) { $0.copyBytes(from: ip) }
            return SocketAddress(v4, host: "")
        }
        var v6 = sockaddr_in6()
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &v6.sin6_addr) { $0.copyBytes(from: ip) }
        return SocketAddress(v6, host: "")
    }
}
