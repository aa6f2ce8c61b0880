import DuetWire

/// Which peers a relay allocation may reach.
///
/// An allocation sends from the server's own host: without a policy the relay is an open
/// UDP proxy into that host's loopback services and its private network, and into the
/// server's own ports. RFC 8656 §9.1 lets a server refuse a peer by policy with 403
/// (Forbidden). By default the relay refuses peers that are unspecified, loopback, link-local,
/// multicast or broadcast (or otherwise reserved), private (10/8, 172.16/12, 192.168/16,
/// 100.64/10, fc00::/7), and any of the server's own listening ports on any of its addresses.
/// Everything else is public and allowed.
///
/// Two peers on the server's own addresses are allowed whatever the policy, because the relay
/// hands their packets over inside the process rather than sending them: the media port as a
/// device names it (`SFUAddresses`: a leg to the SFU through the relay), and another live
/// allocation's relayed address (two devices that both fell back to the relay).
///
/// An operator widens the default explicitly: `allowsPrivate` (`duet server
/// --relay-allow-private`) for a relay serving a LAN, `allowsLoopback` for a server whose
/// devices all run on the same host (the TUI's embedded server, tests).
public struct RelayPeerPolicy: Sendable {
    public var allowsLoopback: Bool
    public var allowsPrivate: Bool
    /// The media port as relayed sockets name it (in-process to the SFU).
    var sfu = SFUAddresses(port: 0, ips: [])
    /// The server's listening ports (signaling, media): refused on any of its addresses.
    var serverPorts: Set<UInt16> = []

    public init(allowsLoopback: Bool = false, allowsPrivate: Bool = false) {
        self.allowsLoopback = allowsLoopback
        self.allowsPrivate = allowsPrivate
    }

    /// What `duet server` uses unless told otherwise.
    public static let standard = RelayPeerPolicy()
    /// For a server whose devices run on its own host.
    public static let allowingLoopback = RelayPeerPolicy(allowsLoopback: true)

    /// Whether an allocation at `relayed` may reach `peer`. `isAllocation`: `peer` is the
    /// relayed address of a live allocation of this relay.
    func admits(_ peer: TransportAddress, relayed: TransportAddress, isAllocation: Bool) -> Bool {
        let peer = peer.unmappedIPv4 ?? peer
        if isAllocation || sfu.names(peer, relayed: relayed) { return true }
        if serverPorts.contains(peer.port) && isServerAddress(peer, relayed: relayed) { return false }
        return admits(ip: peer)
    }

    /// The server's addresses as a peer could name them: where the media port is known, the
    /// relayed address's IP, loopback and the wildcard.
    private func isServerAddress(_ peer: TransportAddress, relayed: TransportAddress) -> Bool {
        peer.isLoopback || peer.isUnspecified || sfu.ips.contains(peer.ip) || peer.ip == (relayed.unmappedIPv4 ?? relayed).ip
    }

    /// The address classes above, for an IPv4 or (not IPv4-mapped) IPv6 address.
    func admits(ip address: TransportAddress) -> Bool {
        let peer = address.unmappedIPv4 ?? address
        if peer.isLoopback { return allowsLoopback }
        let ip = peer.ip
        if ip.count == 4 {
            switch (ip[0], ip[1]) {
            case (0, _), (169, 254), (224...255, _): return false  // this network, link-local, multicast, reserved and broadcast
            case (10, _), (172, 16...31), (192, 168), (100, 64...127): return allowsPrivate
            default: return true
            }
        }
        if peer.isUnspecified || ip[0] == 0xFF || (ip[0] == 0xFE && ip[1] & 0xC0 == 0x80) { return false }  // ::, multicast, fe80::/10
        if ip[0] & 0xFE == 0xFC { return allowsPrivate }  // fc00::/7
        return true
    }
}
