import Foundation
import Synchronization

/// Hosts made of network namespaces, for tests of what crosses a network (docs/networking.md "Tested topologies"): a
/// switch namespace holds one bridge per network segment; every host is a namespace whose
/// `eth0` (and a router's `eth1`) is a veth port on such a bridge; NAT routers are nftables
/// rules inside a router's namespace. Nothing is made in the machine's own namespace, so
/// deleting the lab's namespaces removes all of it.
///
/// Only documentation addresses are used (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24).
/// Namespace names carry this process's id and a per-lab number, so concurrent runs never
/// clash, and a later run deletes what a killed run left behind (`sweepOrphans`).
public final class NetworkLab: Sendable {
    /// Why namespaced tests cannot run here, or nil when they can (root, `ip` and `nft`).
    public static let unavailableReason: String? = {
        guard getuid() == 0 else { return "network-namespace tests need root (CI runs as root)" }
        for tool in ["ip", "nft", "ethtool"] where executable(tool) == nil {
            return "network-namespace tests need '\(tool)' (make deps installs iproute2, nftables and ethtool)"
        }
        return nil
    }()

    /// A link's far end: the bridge (segment) in the switch namespace a host is plugged into.
    public struct Segment: Sendable, Hashable {
        let bridge: String
    }

    /// One namespaced host.
    public struct Host: Sendable, Hashable {
        /// The namespace's name, for `ip netns exec`.
        public let namespace: String
        /// Its address on the segment it was made on (no prefix length).
        public let address: String
    }

    /// How a NAT router maps its inside hosts' flows to its outside address.
    public enum NATKind: Sendable {
        /// Linux masquerade: one outside port per inside socket whatever the destination (an
        /// endpoint-independent mapping, as most home routers make), replies only from where
        /// the flow went (address- and port-dependent filtering).
        case cone
        /// `masquerade random,fully-random`: a new outside port per destination (an
        /// address- and port-dependent mapping), which defeats hole punching.
        case symmetric
    }

    private static let prefix = "duetlab-"
    private static let counter = Atomic<Int>(0)
    private let tag: String
    private let switchNamespace: String
    private let made = Mutex<(namespaces: [String], ports: Int, segments: Int)>(([], 0, 0))

    /// Makes the switch namespace; deletes namespaces of earlier runs whose process is gone.
    public init() throws {
        Self.sweepOrphans()
        tag = "\(Self.prefix)\(getpid())-\(Self.counter.add(1, ordering: .relaxed).newValue)"
        switchNamespace = "\(tag)-switch"
        try addNamespace(switchNamespace)
    }

    deinit { tearDown() }

    /// A new network segment (an Ethernet switch).
    public func segment() throws -> Segment {
        let n = made.withLock { state -> Int in
            state.segments += 1
            return state.segments
        }
        let bridge = "br\(n)"
        try Self.ip(["-n", switchNamespace, "link", "add", bridge, "type", "bridge"])
        try Self.ip(["-n", switchNamespace, "link", "set", bridge, "up"])
        return Segment(bridge: bridge)
    }

    /// A host with `address` (CIDR, e.g. "203.0.113.10/24") on `segment`, routing everything
    /// else through `gateway`.
    public func host(_ name: String, on segment: Segment, address: String, gateway: String? = nil) throws -> Host {
        let namespace = "\(tag)-\(name)"
        try addNamespace(namespace)
        try plug(namespace, interface: "eth0", into: segment, address: address)
        if let gateway { try Self.ip(["-n", namespace, "route", "add", "default", "via", gateway]) }
        return Host(namespace: namespace, address: Self.bare(address))
    }

    /// Plugs `host` into one more segment as `interface` with `address` (a laptop joining a
    /// second network: its routes stay as they are until the test changes them).
    public func addInterface(_ interface: String, to host: Host, on segment: Segment, address: String) throws {
        try plug(host.namespace, interface: interface, into: segment, address: address)
    }

    /// A router between `outside` (its address there is `outsideAddress`) and `inside`
    /// (`insideAddress`, the gateway of the hosts there), translating as `kind` says and
    /// dropping unsolicited new packets from outside, as every home router's firewall does —
    /// without that, conntrack keeps an entry for a hole-punching packet that arrives early
    /// and the next outbound mapping moves to another port.
    public func natRouter(
        _ name: String, kind: NATKind, outside: Segment, outsideAddress: String,
        inside: Segment, insideAddress: String
    ) throws -> Host {
        let router = try router(name, outside: outside, outsideAddress: outsideAddress, inside: inside, insideAddress: insideAddress)
        let masquerade = kind == .cone ? "masquerade" : "masquerade random,fully-random"
        try nft(
            router,
            """
            table ip nat {
              chain postrouting { type nat hook postrouting priority srcnat; oifname "eth0" \(masquerade); }
            }
            table inet firewall {
              chain input { type filter hook input priority filter; iifname "eth0" ct state new drop; }
              chain forward { type filter hook forward priority filter; iifname "eth0" ct state new drop; }
            }
            """)
        return router
    }

    /// A 1:1 NAT (a cloud machine's public address): everything sent to `publicAddress` on
    /// the outside goes to `insideHost`, and what it sends leaves from `publicAddress`.
    public func oneToOneNAT(
        _ name: String, outside: Segment, publicAddress: String, inside: Segment, insideAddress: String,
        insideHost: String
    ) throws -> Host {
        let router = try router(name, outside: outside, outsideAddress: publicAddress, inside: inside, insideAddress: insideAddress)
        let public_ = Self.bare(publicAddress)
        try nft(
            router,
            """
            table ip nat {
              chain prerouting { type nat hook prerouting priority dstnat; iifname "eth0" ip daddr \(public_) dnat to \(insideHost); }
              chain postrouting { type nat hook postrouting priority srcnat; oifname "eth0" ip saddr \(insideHost) snat to \(public_); }
            }
            """)
        return router
    }

    /// Every UDP datagram crossing `router` is dropped (a network that lets only TCP out).
    public func dropUDP(through router: Host) throws {
        try nft(
            router,
            """
            table inet udpblock {
              chain forward { type filter hook forward priority filter - 1; meta l4proto udp drop; }
            }
            """)
    }

    /// Drops `percent` of the datagrams crossing `router`, at random.
    public func loseUDP(percent: Int, through router: Host) throws {
        try nft(
            router,
            """
            table inet loss {
              chain forward { type filter hook forward priority filter - 2; meta l4proto udp numgen random mod 100 < \(percent) drop; }
            }
            """)
    }

    /// The ISP gives router `name` another outside address: the old one goes, and with it
    /// every mapping masquerade made from it (the kernel drops them), so each flow through the
    /// router is mapped afresh from `newAddress` — a NAT rebinding under hosts whose own
    /// addresses do not change.
    public func renumberRouter(_ name: String, outside newAddress: String) throws {
        let namespace = "\(tag)-\(name)"
        try Self.ip(["-n", namespace, "address", "flush", "dev", "eth0"])
        try Self.ip(["-n", namespace, "address", "add", newAddress, "dev", "eth0"])
    }

    /// Runs `arguments` inside `host` and returns what it printed; throws if it fails.
    @discardableResult
    public func run(_ arguments: [String], in host: Host) throws -> String {
        try Self.ip(["netns", "exec", host.namespace] + arguments)
    }

    /// The command line that runs `arguments` inside `namespace` (for a process a test starts).
    public static func command(_ arguments: [String], in namespace: String) -> (executable: URL, arguments: [String]) {
        (URL(fileURLWithPath: executable("ip") ?? "/usr/sbin/ip"), ["netns", "exec", namespace] + arguments)
    }

    /// Kills whatever still runs inside the lab's namespaces and deletes them. Safe to call twice.
    public func tearDown() {
        let namespaces = made.withLock { state -> [String] in
            defer { state.namespaces = [] }
            return state.namespaces
        }
        for namespace in namespaces.reversed() { Self.delete(namespace) }
    }

    // MARK: - Building blocks

    private func router(_ name: String, outside: Segment, outsideAddress: String, inside: Segment, insideAddress: String) throws -> Host {
        let namespace = "\(tag)-\(name)"
        try addNamespace(namespace)
        try plug(namespace, interface: "eth0", into: outside, address: outsideAddress)
        try plug(namespace, interface: "eth1", into: inside, address: insideAddress)
        try Self.ip(["netns", "exec", namespace, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        return Host(namespace: namespace, address: Self.bare(outsideAddress))
    }

    private func addNamespace(_ namespace: String) throws {
        try Self.ip(["netns", "add", namespace])
        made.withLock { $0.namespaces.append(namespace) }
        try Self.ip(["-n", namespace, "link", "set", "lo", "up"])
    }

    /// A namespace with one interface on each of `segments` (eth0, eth1, …) and no address:
    /// a wire between them for whatever runs inside (`DelayLine`).
    func link(_ name: String, to segments: [Segment]) throws -> Host {
        let namespace = "\(tag)-\(name)"
        try addNamespace(namespace)
        for (index, segment) in segments.enumerated() { try plug(namespace, interface: "eth\(index)", into: segment, address: nil) }
        return Host(namespace: namespace, address: "")
    }

    /// A veth pair: `interface` in `namespace`, its twin a port of `segment`'s bridge. The
    /// interface computes its checksums and sends no frame larger than its MTU (no checksum or
    /// segmentation offload), so a user-space delay line can pass every frame on as it is — a
    /// frame with its checksum left to the hardware arrives corrupt once re-sent.
    private func plug(_ namespace: String, interface: String, into segment: Segment, address: String?) throws {
        let port = made.withLock { state -> String in
            state.ports += 1
            return "p\(state.ports)"
        }
        try Self.ip(["-n", switchNamespace, "link", "add", port, "type", "veth", "peer", "name", interface, "netns", namespace])
        try Self.ip(["-n", switchNamespace, "link", "set", port, "master", segment.bridge, "up"])
        if let address { try Self.ip(["-n", namespace, "addr", "add", address, "dev", interface]) }
        try Self.ip(["-n", namespace, "link", "set", interface, "gso_max_segs", "1", "up"])
        try Self.ip(["netns", "exec", namespace, "ethtool", "-K", interface, "tx", "off"])
    }

    private func nft(_ host: Host, _ ruleset: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(host.namespace)-\(UUID().uuidString).nft")
        try ruleset.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try Self.ip(["netns", "exec", host.namespace, "nft", "-f", file.path])
    }

    private static func bare(_ cidr: String) -> String { String(cidr.split(separator: "/").first ?? Substring(cidr)) }

    /// Deletes namespaces an earlier run left behind (its process was killed before tearing down).
    private static func sweepOrphans() {
        guard let list = try? ip(["netns", "list"]) else { return }
        for line in list.split(separator: "\n") {
            guard let name = line.split(separator: " ").first.map(String.init), name.hasPrefix(prefix),
                let pid = Int32(name.dropFirst(prefix.count).split(separator: "-").first ?? "")
            else { continue }
            if kill(pid, 0) != 0, errno == ESRCH { delete(name) }
        }
    }

    private static func delete(_ namespace: String) {
        if let pids = try? ip(["netns", "pids", namespace]) {
            for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        _ = try? ip(["netns", "delete", namespace])
    }

    /// Failure of a command the lab ran, with what it printed.
    public struct CommandFailure: Error, CustomStringConvertible {
        public let command: [String]
        public let output: String
        public var description: String { "'\(command.joined(separator: " "))' failed: \(output)" }
    }

    @discardableResult
    private static func ip(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable("ip") ?? "/usr/sbin/ip")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CommandFailure(command: ["ip"] + arguments, output: output) }
        return output
    }

    private static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
