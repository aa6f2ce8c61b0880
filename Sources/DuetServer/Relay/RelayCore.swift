import DuetCrypto
import DuetWire

/// The TURN server's logic (RFC 8656 subset over UDP: Allocate, Refresh, CreatePermission,
/// Send/Data indications, ChannelBind/ChannelData) as a plain struct: datagrams and time in,
/// actions out, so allocations are tested without sockets.
///
/// Authentication is the long-term credential mechanism: a 401 with REALM and NONCE, then
/// requests with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY under a key derived from the
/// password the signaling server issued for one call. Key derivation and HMAC come in from
/// the caller (`Credentials`), keeping this type free of crypto.
///
/// Limits: peers are judged by `RelayPeerPolicy` (403 for the rest); one credential holder
/// has at most `maximumAllocationsPerHolder` allocations (486); and no allocation outlives
/// its credential's expiry — Allocate and Refresh grant no more than is left of it, and a
/// request under an expired credential is challenged (401) like any other.
struct RelayCore: Sendable {
    static let defaultLifetime: UInt32 = 600
    static let maximumLifetime: UInt32 = 3600
    /// Live or being-bound allocations one credential holder (a number, a meeting guest) may have.
    static let maximumAllocationsPerHolder = 8
    static let permissionLifetime = 300.0
    static let channelLifetime = 600.0

    /// How the core checks who is asking.
    struct Credentials: Sendable {
        let realm: String
        /// The password issued for `username`, or nil if unknown or expired at `now`.
        let password: @Sendable (_ username: String, _ now: Double) -> String?
        /// The MESSAGE-INTEGRITY (HMAC-SHA1) over `username:realm:password`'s key.
        let integrity: @Sendable (_ username: String, _ realm: String, _ password: String) -> STUNIntegrity
        /// Who a username belongs to, for the per-holder quota.
        let holder: @Sendable (_ username: String) -> String
        /// When the credential named by `username` stops being valid (unix seconds), or nil
        /// if it carries no expiry.
        let expiry: @Sendable (_ username: String) -> Double?

        init(
            realm: String, password: @escaping @Sendable (String, Double) -> String?,
            integrity: @escaping @Sendable (String, String, String) -> STUNIntegrity,
            holder: @escaping @Sendable (String) -> String = { $0 }, expiry: @escaping @Sendable (String) -> Double? = { _ in nil }
        ) {
            self.realm = realm
            self.password = password
            self.integrity = integrity
            self.holder = holder
            self.expiry = expiry
        }
    }

    /// An Allocate that passed authentication and waits for its socket.
    struct PendingAllocation: Equatable, Sendable {
        let client: TransportAddress
        let transactionID: [UInt8]
        let username: String
        let lifetime: UInt32
    }

    let credentials: Credentials
    /// Nonces are stateless: the server's current nonce changes with `nonceEpoch`.
    var nonce: String
    let policy: RelayPeerPolicy
    private(set) var allocations: [TransportAddress: RelayAllocation] = [:]
    private var byRelayedAddress: [TransportAddress: TransportAddress] = [:]
    /// Allocations waiting for their socket, by client: their credential's holder.
    private var pending: [TransportAddress: String] = [:]

    init(credentials: Credentials, nonce: String, policy: RelayPeerPolicy = .standard) {
        self.credentials = credentials
        self.nonce = nonce
        self.policy = policy
    }

    var allocationCount: Int { allocations.count }

    // MARK: - From clients (on the media port)

    /// A STUN message or ChannelData from a client. Anything unparseable is dropped silently
    /// (UDP: answering garbage would make the server an amplifier).
    mutating func handleClientDatagram(_ bytes: [UInt8], from client: TransportAddress, now: Double) -> [RelayAction] {
        switch MediaPacketKind(datagram: bytes) {
        case .turnChannel:
            guard let data = try? ChannelData(parsing: bytes), let route = channelOut(from: client, channel: data.channel, now: now) else {
                return []
            }
            noteRelayed(client)
            return [.sendToPeer(relayedAddress: route.relayed, peer: route.peer, data.payload)]
        case .stun:
            guard let message = try? STUNMessage(parsing: bytes) else { return [] }
            if message.messageClass == .indication {
                return message.method == .send ? send(message, from: client, now: now) : []
            }
            guard message.messageClass == .request else { return [] }
            switch message.method {
            case .allocate, .refresh, .createPermission, .channelBind:
                return authenticated(message, bytes, from: client, now: now)
            default:
                return [.sendToClient(client, errorResponse(message, 400, "Bad Request", integrity: nil))]
            }
        default:
            return []
        }
    }

    private mutating func authenticated(_ message: STUNMessage, _ bytes: [UInt8], from client: TransportAddress, now: Double)
        -> [RelayAction]
    {
        guard let username = message.text(.username),
            message.first(.messageIntegrity) != nil || message.first(.messageIntegritySHA256) != nil
        else {
            return [.sendToClient(client, challenge(message, 401, "Unauthorized"))]
        }
        // Every request is judged at `now`: once its credential expired, an allocation can be
        // neither refreshed nor given permissions (and it has expired with it, see `grantable`).
        guard message.text(.realm) == credentials.realm, let password = credentials.password(username, now) else {
            return [.sendToClient(client, challenge(message, 401, "Unauthorized"))]
        }
        let integrity = credentials.integrity(username, credentials.realm, password)
        guard (try? STUNMessage.verifyIntegrity(of: bytes, integrity)) != nil else {
            return [.sendToClient(client, challenge(message, 401, "Unauthorized"))]
        }
        guard message.text(.nonce) == nonce else {
            return [.sendToClient(client, challenge(message, 438, "Stale Nonce"))]
        }
        if let unknown = message.attributes.first(where: { $0.isComprehensionRequired && STUNAttribute.Kind(rawValue: $0.type) == nil }) {
            var response = STUNMessage(
                method: message.method, messageClass: .error, transactionID: message.transactionID,
                attributes: [.errorCode(420, reason: "Unknown Attribute")])
            response.attributes.append(.unknownAttributes([unknown.type]))
            return [.sendToClient(client, response.encoded(integrity: integrity, fingerprint: true))]
        }
        switch message.method {
        case .allocate: return allocate(message, username: username, integrity: integrity, from: client, now: now)
        case .refresh: return refresh(message, username: username, integrity: integrity, from: client, now: now)
        case .createPermission: return createPermission(message, username: username, integrity: integrity, from: client, now: now)
        default: return channelBind(message, username: username, integrity: integrity, from: client, now: now)
        }
    }

    private mutating func allocate(_ m: STUNMessage, username: String, integrity: STUNIntegrity, from client: TransportAddress, now: Double)
        -> [RelayAction]
    {
        if live(client, now) != nil || pending[client] != nil {
            return [.sendToClient(client, errorResponse(m, 437, "Allocation Mismatch", integrity: integrity))]
        }
        guard m.first(.requestedTransport)?.first == 17 else {
            return [.sendToClient(client, errorResponse(m, 442, "Unsupported Transport Protocol", integrity: integrity))]
        }
        let holder = credentials.holder(username)
        let held =
            allocations.values.count(where: { $0.expiresAt > now && credentials.holder($0.username) == holder })
            + pending.values.count(where: { $0 == holder })
        guard held < Self.maximumAllocationsPerHolder else {
            return [.sendToClient(client, errorResponse(m, 486, "Allocation Quota Reached", integrity: integrity))]
        }
        pending[client] = holder
        let lifetime = grantable(
            min(max(m.uint32(.lifetime) ?? Self.defaultLifetime, Self.defaultLifetime), Self.maximumLifetime), username, now)
        return [.bindRelaySocket(PendingAllocation(client: client, transactionID: m.transactionID, username: username, lifetime: lifetime))]
    }

    /// The socket for `request` is bound at `relayedAddress`: the allocation exists now.
    mutating func allocationBound(_ request: PendingAllocation, relayedAddress: TransportAddress, now: Double) -> [RelayAction] {
        pending[request.client] = nil
        allocations[request.client] = RelayAllocation(
            client: request.client, relayedAddress: relayedAddress, username: request.username,
            createdAt: now, expiresAt: now + Double(request.lifetime))
        byRelayedAddress[relayedAddress] = request.client
        var response = STUNMessage(method: .allocate, messageClass: .success, transactionID: request.transactionID)
        response.attributes = [
            response.xorAddress(.xorRelayedAddress, relayedAddress), .uint32(.lifetime, request.lifetime),
            response.xorAddress(.xorMappedAddress, request.client)
        ]
        return [.sendToClient(request.client, response.encoded(integrity: integrityFor(request.username, now), fingerprint: true))]
    }

    /// No socket could be had for `request`.
    mutating func allocationFailed(_ request: PendingAllocation, now: Double) -> [RelayAction] {
        pending[request.client] = nil
        let m = STUNMessage(method: .allocate, messageClass: .request, transactionID: request.transactionID)
        return [
            .sendToClient(request.client, errorResponse(m, 508, "Insufficient Capacity", integrity: integrityFor(request.username, now)))
        ]
    }

    private mutating func refresh(_ m: STUNMessage, username: String, integrity: STUNIntegrity, from client: TransportAddress, now: Double)
        -> [RelayAction]
    {
        guard let allocation = live(client, now), allocation.username == username else {
            return [.sendToClient(client, errorResponse(m, 437, "Allocation Mismatch", integrity: integrity))]
        }
        let requested = m.uint32(.lifetime) ?? Self.defaultLifetime
        var actions: [RelayAction] = []
        let granted: UInt32
        if requested == 0 {
            granted = 0
            actions += remove(client)
        } else {
            granted = grantable(min(max(requested, Self.defaultLifetime), Self.maximumLifetime), username, now)
            allocations[client]?.expiresAt = now + Double(granted)
        }
        let response = STUNMessage(
            method: .refresh, messageClass: .success, transactionID: m.transactionID, attributes: [.uint32(.lifetime, granted)])
        return [.sendToClient(client, response.encoded(integrity: integrity, fingerprint: true))] + actions
    }

    private mutating func createPermission(
        _ m: STUNMessage, username: String, integrity: STUNIntegrity, from client: TransportAddress, now: Double
    ) -> [RelayAction] {
        guard live(client, now)?.username == username else {
            return [.sendToClient(client, errorResponse(m, 437, "Allocation Mismatch", integrity: integrity))]
        }
        let peers = m.addresses(.xorPeerAddress)
        guard !peers.isEmpty, let allocation = allocations[client] else {
            return [.sendToClient(client, errorResponse(m, 400, "Bad Request", integrity: integrity))]
        }
        // All or none (§9.1): one forbidden peer refuses the whole request.
        guard peers.allSatisfy({ admits($0, from: allocation) }) else {
            return [.sendToClient(client, errorResponse(m, 403, "Forbidden", integrity: integrity))]
        }
        for peer in peers { allocations[client]?.permissions[peer.ip] = now + Self.permissionLifetime }
        let response = STUNMessage(method: .createPermission, messageClass: .success, transactionID: m.transactionID)
        return [.sendToClient(client, response.encoded(integrity: integrity, fingerprint: true))]
    }

    private mutating func channelBind(
        _ m: STUNMessage, username: String, integrity: STUNIntegrity, from client: TransportAddress, now: Double
    ) -> [RelayAction] {
        guard let allocation = live(client, now), allocation.username == username else {
            return [.sendToClient(client, errorResponse(m, 437, "Allocation Mismatch", integrity: integrity))]
        }
        guard let channel = m.channelNumber, ChannelData.channelRange.contains(channel),
            let peer = try? m.address(.xorPeerAddress)
        else {
            return [.sendToClient(client, errorResponse(m, 400, "Bad Request", integrity: integrity))]
        }
        guard admits(peer, from: allocation) else {
            return [.sendToClient(client, errorResponse(m, 403, "Forbidden", integrity: integrity))]
        }
        // A channel is bound to one peer, and a peer to one channel (§11.2).
        if let existing = allocation.channels[channel], existing.peer != peer {
            return [.sendToClient(client, errorResponse(m, 400, "Channel already bound to another peer", integrity: integrity))]
        }
        if let other = allocation.channelByPeer[peer], other != channel {
            return [.sendToClient(client, errorResponse(m, 400, "Peer already bound to another channel", integrity: integrity))]
        }
        allocations[client]?.channels[channel] = (peer, now + Self.channelLifetime)
        allocations[client]?.channelByPeer[peer] = channel
        allocations[client]?.permissions[peer.ip] = now + Self.permissionLifetime
        let response = STUNMessage(method: .channelBind, messageClass: .success, transactionID: m.transactionID)
        return [.sendToClient(client, response.encoded(integrity: integrity, fingerprint: true))]
    }

    /// Send indications carry no integrity (§11.1): they are accepted only from the client
    /// that owns the allocation, to peers it has permission for.
    private mutating func send(_ m: STUNMessage, from client: TransportAddress, now: Double) -> [RelayAction] {
        guard let allocation = live(client, now), let peer = try? m.address(.xorPeerAddress), let data = m.first(.data),
            allocation.permits(peer, now: now), admits(peer, from: allocation)
        else { return [] }
        allocations[client]?.relayedPackets += 1
        return [.sendToPeer(relayedAddress: allocation.relayedAddress, peer: peer, data)]
    }

    // MARK: - From peers (on a relayed socket)

    /// A datagram a peer sent to `relayedAddress`: forwarded to the client only if it gave
    /// that peer permission, as ChannelData when a channel is bound, else a Data indication.
    mutating func handlePeerDatagram(_ bytes: [UInt8], from peer: TransportAddress, to relayedAddress: TransportAddress, now: Double)
        -> [RelayAction]
    {
        if let route = channelBack(from: peer, to: relayedAddress, now: now) {
            noteRelayed(route.client)
            return [.sendToClient(route.client, ChannelData(channel: route.channel, payload: bytes).encoded)]
        }
        guard let client = byRelayedAddress[relayedAddress], let allocation = live(client, now), allocation.permits(peer, now: now) else {
            return []
        }
        noteRelayed(client)
        let tid = SecureRandom.bytes(STUNMessage.transactionIDCount)
        var indication = STUNMessage(method: .data, messageClass: .indication, transactionID: tid)
        indication.attributes = [indication.xorAddress(.xorPeerAddress, peer), STUNAttribute(.data, bytes)]
        return [.sendToClient(client, indication.encoded(fingerprint: true))]
    }

    // MARK: - Channels, the common path

    /// Where ChannelData from `client` on `channel` goes: its allocation's relayed address and
    /// the channel's peer, if the allocation is live, the channel bound and the peer admitted.
    /// Changes nothing; the caller counts what it relays (`noteRelayed`).
    func channelOut(from client: TransportAddress, channel: UInt16, now: Double) -> (relayed: TransportAddress, peer: TransportAddress)? {
        guard let allocation = allocations[client], allocation.expiresAt > now, let binding = allocation.channels[channel],
            binding.expiresAt > now, admits(binding.peer, from: allocation)
        else { return nil }
        return (allocation.relayedAddress, binding.peer)
    }

    /// The client and channel a datagram from `peer` to `relayedAddress` goes back on, if the
    /// allocation is live, the peer permitted and a channel bound to it. Changes nothing.
    func channelBack(from peer: TransportAddress, to relayedAddress: TransportAddress, now: Double) -> (
        client: TransportAddress, channel: UInt16
    )? {
        guard let client = byRelayedAddress[relayedAddress], let allocation = allocations[client], allocation.expiresAt > now,
            allocation.permits(peer, now: now), let channel = allocation.channelByPeer[peer],
            let binding = allocation.channels[channel], binding.expiresAt > now
        else { return nil }
        return (client, channel)
    }

    /// Counts a packet relayed for `client`'s allocation (the load figures).
    mutating func noteRelayed(_ client: TransportAddress) {
        allocations[client]?.relayedPackets += 1
    }

    // MARK: - Time

    /// Drops expired allocations (closing their sockets), permissions and channels.
    mutating func expire(now: Double) -> [RelayAction] {
        var actions: [RelayAction] = []
        for (client, allocation) in allocations {
            if allocation.expiresAt <= now {
                actions += remove(client)
                continue
            }
            allocations[client]?.permissions = allocation.permissions.filter { $0.value > now }
            for (channel, binding) in allocation.channels where binding.expiresAt <= now {
                allocations[client]?.channels[channel] = nil
                allocations[client]?.channelByPeer[binding.peer] = nil
            }
        }
        return actions
    }

    /// The TCP or TLS connection of `client` ended: so does its allocation (RFC 8656 §3.1).
    mutating func connectionClosed(_ client: TransportAddress) -> [RelayAction] {
        pending[client] = nil
        return remove(client)
    }

    // MARK: - Helpers

    /// Whether `allocation` may reach `peer` (permissions are per IP, so every packet's full
    /// address is judged again: a permission for the server's own IP opens none of its ports).
    private func admits(_ peer: TransportAddress, from allocation: RelayAllocation) -> Bool {
        policy.admits(
            peer, relayed: allocation.relayedAddress,
            isAllocation: byRelayedAddress[peer] != nil || byRelayedAddress[peer.unmappedIPv4 ?? peer] != nil)
    }

    /// `lifetime`, cut to what is left of `username`'s credential at `now`.
    private func grantable(_ lifetime: UInt32, _ username: String, _ now: Double) -> UInt32 {
        guard let expiry = credentials.expiry(username) else { return lifetime }
        return UInt32(max(0, min(Double(lifetime), (expiry - now).rounded(.down))))
    }

    private func live(_ client: TransportAddress, _ now: Double) -> RelayAllocation? {
        guard let a = allocations[client], a.expiresAt > now else { return nil }
        return a
    }

    private mutating func remove(_ client: TransportAddress) -> [RelayAction] {
        guard let allocation = allocations.removeValue(forKey: client) else { return [] }
        byRelayedAddress[allocation.relayedAddress] = nil
        return [.closeRelaySocket(allocation.relayedAddress)]
    }

    private func integrityFor(_ username: String, _ now: Double) -> STUNIntegrity? {
        credentials.password(username, now).map { credentials.integrity(username, credentials.realm, $0) }
    }

    private func challenge(_ m: STUNMessage, _ code: Int, _ reason: String) -> [UInt8] {
        STUNMessage(
            method: m.method, messageClass: .error, transactionID: m.transactionID,
            attributes: [.errorCode(code, reason: reason), .text(.realm, credentials.realm), .text(.nonce, nonce)]
        )
        .encoded(fingerprint: true)
    }

    private func errorResponse(_ m: STUNMessage, _ code: Int, _ reason: String, integrity: STUNIntegrity?) -> [UInt8] {
        STUNMessage(method: m.method, messageClass: .error, transactionID: m.transactionID, attributes: [.errorCode(code, reason: reason)])
            .encoded(integrity: integrity, fingerprint: true)
    }
}
