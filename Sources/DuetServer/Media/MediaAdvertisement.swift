import DuetWire
import NIOCore

/// Which address devices are told to send media to — the SFU of group calls and meetings and
/// the relay — and which address the relay puts in XOR-RELAYED-ADDRESS (docs/networking.md
/// "Addresses"). Never a wildcard: a device cannot send to 0.0.0.0.
///
/// - With `--public-address` (a server behind a 1:1 NAT, as cloud machines are), always that.
/// - Bound to one address, that address.
/// - Bound to every interface (0.0.0.0 or ::) with no public address: whichever of its
///   addresses the device reached — the signaling connection's local address for what goes
///   out over signaling, the Allocate's destination for the relay — as each is the one
///   address known to work from that device.
struct MediaAdvertisement: Sendable {
    /// `--public-address`, as an IP.
    let publicIP: [UInt8]?
    /// Where the media port is bound (its port is the real one, never 0).
    let bound: HostPort
    let boundIP: [UInt8]

    /// The media port as a device that reached signaling at `local` should address it.
    func media(seenAt local: SocketAddress?) -> HostPort {
        if let publicIP { return HostPort(host: TransportAddress(ip: publicIP, port: 0).ipText, port: bound.port) }
        if !TransportAddress(ip: boundIP, port: 0).isUnspecified { return bound }
        guard let local, let seen = TransportAddress(local) else { return bound }
        return HostPort(host: (seen.unmappedIPv4 ?? seen).ipText, port: bound.port)
    }

    /// Whether `relayIP` looks at where an Allocate arrived: the media port then reads each
    /// datagram's destination.
    var relayIPDependsOnArrival: Bool { publicIP == nil && TransportAddress(ip: boundIP, port: 0).isUnspecified }

    /// The IP a relayed socket is announced with, for an Allocate that arrived at `destination`.
    func relayIP(arrivedAt destination: [UInt8]?) -> [UInt8] {
        if let publicIP { return publicIP }
        guard relayIPDependsOnArrival, let destination else { return boundIP }
        let arrived = TransportAddress(ip: destination, port: 0)
        return (arrived.unmappedIPv4 ?? arrived).ip
    }

    /// The addresses a relayed socket may name the SFU by (see `MediaRouter`).
    func sfuAddresses(port: UInt16) -> SFUAddresses {
        let bound = TransportAddress(ip: boundIP, port: 0)
        return SFUAddresses(
            port: port, ips: Set([publicIP, bound.isUnspecified ? nil : (bound.unmappedIPv4 ?? bound).ip].compactMap { $0 }))
    }

    /// What `duet server` prints after "advertised".
    var summary: String {
        if publicIP != nil || !TransportAddress(ip: boundIP, port: 0).isUnspecified { return media(seenAt: nil).description }
        return "the address each device reached this server at (behind a NAT, set --public-address)"
    }
}
