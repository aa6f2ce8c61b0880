import DuetWire

/// A relayed UDP socket: its announced address and its socket (the media thread's, see
/// `MediaLoop`).
struct RelaySocket: Sendable {
    let address: TransportAddress
    let socket: UDPSocket
}

/// What the media loop reacts to. Every socket reader and the clock turn what they see into
/// one of these, and the media loop applies them in order (see `MediaLoop`) — all but the
/// relay's ChannelData on its common path (`MediaRouter.channelOut`, `channelBack`).
enum MediaEvent: Sendable {
    /// A datagram on the media port; `arrivedAt` is the server address it was sent to, where
    /// the socket is bound to every interface (see `MediaAdvertisement`).
    case fromClient([UInt8], TransportAddress, arrivedAt: [UInt8]? = nil)
    case fromPeer([UInt8], TransportAddress, relayed: TransportAddress)
    case relayBound(RelayCore.PendingAllocation, RelaySocket)
    case relayBindFailed(RelayCore.PendingAllocation, reason: String)
    /// A TURN client on a TCP or TLS connection (`RelayStreams`): what is sent to it goes
    /// into `outbox`; its allocation ends when the connection does.
    case streamOpened(TransportAddress, _ outbox: AsyncStream<[UInt8]>.Continuation)
    case streamClosed(TransportAddress)
    case tick
}

/// What the loop must do after an event.
enum MediaOutput: Sendable {
    case sendToClient(TransportAddress, [UInt8])
    /// To a TURN client on a stream (its bounded outbox; never awaited by the loop).
    case sendToStream(AsyncStream<[UInt8]>.Continuation, [UInt8])
    case sendToPeer(RelaySocket, TransportAddress, [UInt8])
    /// Bind a new relayed socket; report back with `.relayBound` or `.relayBindFailed`.
    case bindRelaySocket(RelayCore.PendingAllocation)
    case close(RelaySocket)
}

/// The media port's logic: RFC 7983 demultiplexing, STUN Binding answers (how clients learn
/// their server-reflexive address), the relay — `RelayCore` plus the sockets its
/// allocations own — and the SFU (`SFUPort`: DTLS-SRTP legs and group-call rooms). A plain
/// value owned by the media loop (`MediaLoop`, on one event loop), so the core is never shared
/// and needs no lock; whatever reads sockets talks to it through `MediaEvent`s, or, for the
/// relay's common path, `channelOut` and `channelBack` (whose opt-outs mirror `route` and
/// `translate`: a special case added there must be added to them too).
struct MediaRouter {
    /// Above this many allocations (live or being bound) an Allocate gets 508.
    static let maximumAllocations = 500

    private var core: RelayCore
    private var sockets: [TransportAddress: RelaySocket] = [:]
    /// TURN clients on TCP or TLS connections, by their address.
    private var streams: [TransportAddress: AsyncStream<[UInt8]>.Continuation] = [:]
    private var binding = 0
    private(set) var sfu: SFUPort
    /// Datagrams answered or relayed, and those dropped, by kind.
    private(set) var tally = MediaCounts()
    /// Kinds of drop seen for the first time since the last `takeNewDrops()`.
    private var newDrops: [MediaCount] = []
    private let witness: MediaWitness?
    /// The media port as relayed sockets address it: a permission to it reaches the SFU.
    private let sfuAddresses: SFUAddresses
    /// Relayed sockets that carry a leg to the SFU, and the address their client names it by:
    /// what the SFU sends the relayed address goes back through the allocation from there.
    private var sfuLegs: [TransportAddress: TransportAddress] = [:]

    /// `peers`: who allocations may reach; the media port (`sfuAddresses`) is always allowed.
    init(
        credentials: RelayCore.Credentials, nonce: String, sfu: SFUPort, witness: MediaWitness? = nil,
        sfuAddresses: SFUAddresses = SFUAddresses(port: 0, ips: []), peers: RelayPeerPolicy = .standard
    ) {
        var policy = peers
        policy.sfu = sfuAddresses
        core = RelayCore(credentials: credentials, nonce: nonce, policy: policy)
        self.sfu = sfu
        self.witness = witness
        self.sfuAddresses = sfuAddresses
    }

    var allocationCount: Int { core.allocationCount }

    /// Applies `event` at `now` (unix seconds: relay usernames carry a unix expiry). What goes
    /// to a client on a stream goes into its outbox instead of a datagram.
    mutating func handle(_ event: MediaEvent, now: Double) -> [MediaOutput] {
        var outputs = route(event, now: now)
        if !sfuLegs.isEmpty {
            outputs = outputs.flatMap { output -> [MediaOutput] in
                guard case let .sendToClient(relayed, bytes) = output, let sfu = sfuLegs[relayed] else { return [output] }
                // The SFU answering a leg that came through the relay: back into its allocation.
                return translate(core.handlePeerDatagram(bytes, from: sfu, to: relayed, now: now), now: now)
            }
        }
        guard !streams.isEmpty else { return outputs }
        return outputs.map { output in
            guard case let .sendToClient(client, bytes) = output, let outbox = streams[client] else { return output }
            return .sendToStream(outbox, bytes)
        }
    }

    private mutating func route(_ event: MediaEvent, now: Double) -> [MediaOutput] {
        switch event {
        case let .fromClient(bytes, client, _) where streams[client] != nil:
            // A stream carries TURN (and STUN Binding) only: media to the SFU goes over UDP.
            guard [.stun, .turnChannel].contains(MediaPacketKind(datagram: bytes)) else {
                count(.notTURNOnStreamDropped)
                return []
            }
            return fromClient(bytes, client, now: now)
        case let .fromClient(bytes, client, _):
            return fromClient(bytes, client, now: now)
        case let .streamOpened(client, outbox):
            count(.turnStreams)
            streams[client] = outbox
            return []
        case let .streamClosed(client):
            streams[client] = nil
            return translate(core.connectionClosed(client), now: now)
        case let .fromPeer(bytes, peer, relayed):
            count(.relayedFromPeers)
            let outputs = translate(core.handlePeerDatagram(bytes, from: peer, to: relayed, now: now), now: now)
            if let witness, outputs.contains(where: { if case .sendToClient = $0 { true } else { false } }) { witness.relayed(bytes) }
            return outputs
        case let .relayBound(request, socket):
            binding -= 1
            sockets[socket.address] = socket
            return translate(core.allocationBound(request, relayedAddress: socket.address, now: now), now: now)
        case let .relayBindFailed(request, _):
            binding -= 1
            return translate(core.allocationFailed(request, now: now), now: now)
        case .tick:
            return translate(core.expire(now: now), now: now) + sfu.tick(now: now)
        }
    }

    // MARK: - The relay's common path

    /// The relayed socket and peer for ChannelData a UDP client sends on `channel` when it goes
    /// out to an ordinary peer — the relay's common case, which the loop sends without copying
    /// it into arrays (`MediaLoop.relayOut`). Counted as `handle` counts it. Nil when anything
    /// else applies (no such channel, a client on a stream, the SFU or another allocation as
    /// the peer): then `handle` takes the datagram, and counts it, as before.
    mutating func channelOut(from client: TransportAddress, channel: UInt16, now: Double, payload: () -> [UInt8]) -> (
        socket: RelaySocket, peer: TransportAddress
    )? {
        guard streams[client] == nil, let route = core.channelOut(from: client, channel: channel, now: now),
            !sfuAddresses.names(route.peer, relayed: route.relayed), sockets[route.peer] == nil, let socket = sockets[route.relayed]
        else { return nil }
        count(.turnChannelData)
        core.noteRelayed(client)
        witness?.relayed(payload())
        return (socket, route.peer)
    }

    /// The client and channel a peer's datagram to `relayed` goes back on when a channel is
    /// bound to that peer and the client is on UDP — the other half of the common path
    /// (`MediaLoop.relayBack`). Counted as `handle` counts it; nil sends it to `handle`.
    mutating func channelBack(from peer: TransportAddress, to relayed: TransportAddress, now: Double, payload: () -> [UInt8]) -> (
        client: TransportAddress, channel: UInt16
    )? {
        guard let route = core.channelBack(from: peer, to: relayed, now: now), streams[route.client] == nil, sfuLegs[route.client] == nil
        else { return nil }
        count(.relayedFromPeers)
        core.noteRelayed(route.client)
        witness?.relayed(payload())
        return route
    }

    /// Every socket still open, for shutdown.
    mutating func closeAll() -> [RelaySocket] {
        defer { sockets = [:] }
        return Array(sockets.values)
    }

    private mutating func fromClient(_ bytes: [UInt8], _ client: TransportAddress, now: Double) -> [MediaOutput] {
        switch MediaPacketKind(datagram: bytes) {
        case .stun:
            guard let message = try? STUNMessage(parsing: bytes) else {
                count(.malformedSTUN)
                return []
            }
            if message.method == .binding {
                guard message.messageClass == .request else {
                    count(.stunBindingNonRequest)
                    return []
                }
                count(.stunBinding)
                return [.sendToClient(client, Self.bindingSuccess(to: message, from: client))]
            }
            count(.turn)
            return translate(core.handleClientDatagram(bytes, from: client, now: now), now: now)
        case .turnChannel:
            count(.turnChannelData)
            return translate(core.handleClientDatagram(bytes, from: client, now: now), now: now)
        case .dtls:
            count(.dtls)
            return sfu.receiveDTLS(bytes, from: client, now: now)
        case .rtp:
            count(.srtp)
            return sfu.receiveSRTP(bytes, from: client, now: now)
        case .unknown:
            count(.unknownDropped)
            return []
        }
    }

    /// What a relayed socket carries to the SFU: DTLS and SRTP only (the relay is no way
    /// to the media port's STUN or TURN: no allocation made from an allocation).
    private mutating func toSFU(_ bytes: [UInt8], from relayed: TransportAddress, now: Double) -> [MediaOutput] {
        switch MediaPacketKind(datagram: bytes) {
        case .dtls:
            count(.dtlsThroughRelay)
            return sfu.receiveDTLS(bytes, from: relayed, now: now)
        case .rtp:
            count(.srtpThroughRelay)
            return sfu.receiveSRTP(bytes, from: relayed, now: now)
        default:
            count(.notDTLSOrSRTPThroughRelayDropped)
            return []
        }
    }

    /// The Binding success response (RFC 8489 §6.3.1): the client's address as the server saw it.
    static func bindingSuccess(to request: STUNMessage, from client: TransportAddress) -> [UInt8] {
        var response = STUNMessage(method: .binding, messageClass: .success, transactionID: request.transactionID)
        response.attributes = [response.xorAddress(.xorMappedAddress, client)]
        return response.encoded(fingerprint: true)
    }

    /// Relay actions as outputs. Its special cases (the SFU as peer, another allocation as
    /// peer) are also the common path's opt-outs (`channelOut`): keep the two in step.
    private mutating func translate(_ actions: [RelayAction], now: Double) -> [MediaOutput] {
        var outputs: [MediaOutput] = []
        for action in actions {
            switch action {
            case let .sendToClient(client, bytes):
                outputs.append(.sendToClient(client, bytes))
            case let .sendToPeer(relayed, peer, bytes) where sfuAddresses.names(peer, relayed: relayed):
                // A leg to the SFU from a device whose network lets no UDP out (it reaches the relay
                // over TCP or TLS): handed to the SFU as if the relayed address had sent it.
                sfuLegs[relayed] = peer
                outputs += toSFU(bytes, from: relayed, now: now)
            case let .sendToPeer(relayed, peer, bytes) where sockets[peer] != nil:
                // To another allocation of this relay (two devices that both fell back to the
                // relay): handed over here rather than sent out and read back in. Through the
                // network it would need the host's NAT to hairpin to its own public address,
                // which a cloud 1:1 NAT often does not (docs/networking.md).
                witness?.relayed(bytes)
                count(.relayedBetweenAllocations)
                outputs += translate(core.handlePeerDatagram(bytes, from: relayed, to: peer, now: now), now: now)
            case let .sendToPeer(relayed, peer, bytes):
                if let socket = sockets[relayed] {
                    witness?.relayed(bytes)
                    outputs.append(.sendToPeer(socket, peer, bytes))
                }
            case let .bindRelaySocket(request):
                if core.allocationCount + binding >= Self.maximumAllocations {
                    count(.allocationsRefusedAtCapacity)
                    // Answers 508 at once; no socket was asked for.
                    outputs += translate(core.allocationFailed(request, now: now), now: now)
                } else {
                    binding += 1
                    outputs.append(.bindRelaySocket(request))
                }
            case let .closeRelaySocket(address):
                sfuLegs[address] = nil
                if let socket = sockets.removeValue(forKey: address) { outputs.append(.close(socket)) }
            }
        }
        return outputs
    }

    private mutating func count(_ kind: MediaCount) {
        if tally.add(kind), kind.isDrop { newDrops.append(kind) }
    }

    /// The counts by label, for the log and tests.
    var counts: [String: Int] { tally.labelled }

    /// Kinds of drop first seen since the last call: the loop logs each once.
    mutating func takeNewDrops() -> [MediaCount] {
        defer { newDrops.removeAll() }
        return newDrops
    }
}

/// The addresses the media port is known by, as a device names it in a permission: the port,
/// with `--public-address`, the address it is bound to, or the relayed address's own IP (the
/// address the device reached this server at, see `MediaAdvertisement.relayIP`).
struct SFUAddresses: Sendable {
    let port: UInt16
    let ips: Set<[UInt8]>

    func names(_ peer: TransportAddress, relayed: TransportAddress) -> Bool {
        guard port != 0, peer.port == port else { return false }
        let ip = (peer.unmappedIPv4 ?? peer).ip
        return ips.contains(ip) || ip == (relayed.unmappedIPv4 ?? relayed).ip
    }
}
