import DuetWire
import NIOCore

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

    /// The address to send to. `ip` is always 4 or 16 bytes, which NIO accepts.
    var socketAddress: SocketAddress {
        // Cannot fail: TransportAddress guarantees a 4- or 16-byte IP.
        try! SocketAddress(packedIPAddress: ByteBuffer(bytes: ip), port: Int(port))
    }
}
