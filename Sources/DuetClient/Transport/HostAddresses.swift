import DuetWire
import Glibc

/// The addresses of this machine's interfaces that are up: where a peer on the same network,
/// or with a route to us, can reach the media socket (host candidates, RFC 8445 §5.1.1.1).
enum HostAddresses {
    /// How often a call (a 1:1 call's restart watch, a leg's route) compares the interfaces'
    /// addresses with the last ones: getifaddrs costs microseconds, and at 1 s the wait for the
    /// look was most of the audio gap of a move.
    static let checkInterval = Duration.milliseconds(250)

    /// Each interface's address once, IPv4 first (every NAT in the tested topologies is IPv4).
    /// Loopback only when `includeLoopback` (the server itself is reached over loopback: the
    /// peer is then on this machine too); link-local addresses never, as they need a scope.
    static func current(includeLoopback: Bool, includeIPv6: Bool) -> [[UInt8]] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return includeLoopback ? [[127, 0, 0, 1]] : [] }
        defer { freeifaddrs(list) }
        var v4: [[UInt8]] = [], v6: [[UInt8]] = []
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            let flags = Int32(bitPattern: entry.pointee.ifa_flags)
            guard flags & Int32(IFF_UP) != 0, let socketAddress = entry.pointee.ifa_addr else { continue }
            switch Int32(socketAddress.pointee.sa_family) {
            case AF_INET:
                let ip = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                }
                if ip[0] == 127 && !includeLoopback { continue }
                if ip[0] == 169 && ip[1] == 254 { continue }
                if !v4.contains(ip) { v4.append(ip) }
            case AF_INET6 where includeIPv6:
                let ip = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                }
                let address = TransportAddress(ip: ip, port: 0)
                if address.isLoopback && !includeLoopback { continue }
                if ip[0] == 0xFE && ip[1] & 0xC0 == 0x80 { continue }
                if address.unmappedIPv4 == nil, !v6.contains(ip) { v6.append(ip) }
            default:
                continue
            }
        }
        return v4 + v6
    }
}
