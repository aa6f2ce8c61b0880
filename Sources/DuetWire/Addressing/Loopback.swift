/// This machine's loopback, by name and by address: the one place Duet spells "localhost" and
/// 127.0.0.1, and the one rule for turning the name into an address.
///
/// The name is resolved here, not by the system's resolver: getaddrinfo may answer ::1 first,
/// or nothing at all inside a network namespace with no /etc/hosts entry, while a Duet server
/// on this machine listens on 127.0.0.1 (its default). So "localhost" means 127.0.0.1 wherever
/// Duet turns a host into an address (`ServerAddress` in DuetClient) and wherever it compares
/// two spellings of one server.
public enum Loopback {
    /// The loopback's name, as users type it and as the server's certificate names it.
    public static let hostName = "localhost"
    /// The IPv4 loopback address as text: the server's default listening host, and the host the
    /// embedded world, the demo, the benchmarks and the tests bind.
    public static let ipv4 = "127.0.0.1"
    /// The same address as bytes, network order.
    public static let ipv4Bytes: [UInt8] = [127, 0, 0, 1]

    /// Whether `host` is the loopback's name (DNS names ignore case: "LocalHost" too).
    public static func isName(_ host: String) -> Bool {
        host.lowercased() == hostName
    }

    /// 127.0.0.1:`port` when `host` is the loopback's name; nil for any other host, which the
    /// caller resolves as a literal or through the system's resolver.
    public static func address(named host: String, port: UInt16) -> TransportAddress? {
        isName(host) ? TransportAddress(ip: ipv4Bytes, port: port) : nil
    }
}

extension HostPort {
    /// 127.0.0.1:`port`: reachable from this machine only. Port 0 lets the system pick one.
    public static func loopback(port: Int) -> HostPort {
        HostPort(host: Loopback.ipv4, port: port)
    }
}
