import DuetWire
import Glibc

/// Where a device sends to the server's media port (STUN, the relay, the SFU), from the
/// address the server advertised over signaling. One rule for 1:1 calls, group legs and
/// meeting legs (docs/networking.md "Addresses").
public enum ServerAddress {
    /// `advertised` as the server named it; a host the server could not name (a wildcard —
    /// a server bound to every interface with no `--public-address`) is the host this device
    /// signals to, which reaches the same machine.
    public static func media(_ advertised: HostPort, signaling: HostPort) -> TransportAddress? {
        let port = UInt16(clamping: advertised.port)
        guard port != 0 else { return nil }
        if let address = resolve(advertised.host, port: port), !address.isUnspecified { return address }
        return resolve(signaling.host, port: port)
    }

    /// Whether two spellings name one server ("localhost:7000" and "127.0.0.1:7000", a name and
    /// its address): one port, and one host by name or by the address it resolves to. A pin made
    /// under one spelling holds for the other.
    public static func same(_ one: HostPort, _ other: HostPort) -> Bool {
        guard one.port == other.port else { return false }
        if one.host.lowercased() == other.host.lowercased() { return true }
        let port = UInt16(clamping: one.port)
        guard let first = resolve(one.host, port: port), let second = resolve(other.host, port: port) else { return false }
        return first == second
    }

    /// An IP literal as it is, the loopback's name as 127.0.0.1 (`Loopback`, DuetWire), a name
    /// through the system's resolver (its first IPv4 address, else its first IPv6 one).
    public static func resolve(_ host: String, port: UInt16) -> TransportAddress? {
        if let loopback = Loopback.address(named: host, port: port) { return loopback }
        if let literal = TransportAddress(literal: host, port: port) { return literal }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &results) == 0, let first = results else { return nil }
        defer { freeaddrinfo(results) }
        var found: [TransportAddress] = []
        for entry in sequence(first: first, next: { $0.pointee.ai_next }) {
            guard let socketAddress = entry.pointee.ai_addr else { continue }
            switch entry.pointee.ai_family {
            case AF_INET:
                let ip = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) }
                }
                found.append(TransportAddress(ip: ip, port: port))
            case AF_INET6:
                let ip = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }
                }
                found.append(TransportAddress(ip: ip, port: port))
            default:
                continue
            }
        }
        return found.first { $0.ip.count == 4 } ?? found.first
    }
}
