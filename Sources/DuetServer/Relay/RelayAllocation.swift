import DuetWire

/// One TURN allocation (RFC 8656 §2.2): a relayed address on the server that a client's
/// 5-tuple owns, with the peers it may exchange packets with.
struct RelayAllocation: Sendable {
    let client: TransportAddress
    let relayedAddress: TransportAddress
    let username: String
    /// When the allocation was made.
    let createdAt: Double
    var expiresAt: Double
    /// Peer IP → expiry (permissions are per IP address, port ignored; §9).
    var permissions: [[UInt8]: Double] = [:]
    /// Channel number → (peer, expiry) and the reverse map, kept in step.
    var channels: [UInt16: (peer: TransportAddress, expiresAt: Double)] = [:]
    var channelByPeer: [TransportAddress: UInt16] = [:]
    /// Packets and bytes relayed, both ways, for the load figures (docs/testing.md "Load").
    var relayedPackets = 0

    func permits(_ peer: TransportAddress, now: Double) -> Bool {
        (permissions[peer.ip] ?? -1) > now
    }
}

/// What the service around `RelayCore` must do; the core itself does no I/O.
enum RelayAction: Equatable, Sendable {
    /// Send from the media port to a client.
    case sendToClient(TransportAddress, [UInt8])
    /// Send from an allocation's relayed socket to a peer.
    case sendToPeer(relayedAddress: TransportAddress, peer: TransportAddress, [UInt8])
    /// An authenticated Allocate needs a new UDP socket; answer with
    /// `RelayCore.allocationBound` or `allocationFailed`.
    case bindRelaySocket(RelayCore.PendingAllocation)
    /// An allocation ended; close its socket.
    case closeRelaySocket(TransportAddress)
}
