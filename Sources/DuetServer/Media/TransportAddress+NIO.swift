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
}
