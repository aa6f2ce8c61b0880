import DuetWire
import Synchronization

/// The way through a TURN relay to one peer, wherever a device needs one: a 1:1 call whose
/// direct checks found no pair (the peer is the other device's relayed address), and a leg to
/// the SFU on a network that lets no UDP out (the peer is the server's own media port, which
/// the Duet relay hands over in-process). One allocation over one `RelayLink`; when a way to
/// the relay fails (no answer over UDP, no TCP connection, a refused Allocate) the next one
/// in `transports` is tried (docs/networking.md "The paths").
///
/// Owned by one engine's actor, which drives it with datagrams and ticks; not thread-safe
/// alone. Opening a stream is the only thing it awaits, in a task of its own whose outcome
/// the next tick picks up.
final class RelayPath {
    /// What the engine hears from the path.
    enum Event: Equatable, Sendable {
        /// The relay gave this address: the peer sends to it (a 1:1 call tells the other device).
        case allocated(TransportAddress)
        /// A channel to the peer is bound: media flows now, over this way to the relay.
        case ready(RelayTransport)
        /// One way to the relay failed; the next is being tried.
        case warning(String)
        /// Every way to the relay failed.
        case failed(String)
    }

    /// What a datagram from the relay server was.
    enum Received {
        /// Relayed from `peer`.
        case media(peer: TransportAddress, payload: [UInt8])
        /// The relay's own answer, and what it led to.
        case control([Event])
    }

    let server: TransportAddress
    private let username: String
    private let password: String
    private let socket: MediaSocket
    /// Where a stream's frames go: the same inbox as the socket's datagrams.
    private let deliver: MediaSocket.Handler
    private let pinned: @Sendable () async -> CertificateFingerprint?
    private var left: [RelayTransport]
    private var client: RelayClient?
    private var link: RelayLink?
    private var connecting: StreamOutcome?
    private(set) var peer: TransportAddress?
    private(set) var relayed: TransportAddress?
    private(set) var isReady = false
    private var lastFailure = "no way to the relay was tried"

    /// `socket`: the engine's UDP socket (the relay over UDP is reached from it, and its
    /// answers come to its handler). `pinned`: the certificate a TLS relay must show.
    init(
        server: TransportAddress, username: String, password: String, transports: [RelayTransport], socket: MediaSocket,
        pinned: @escaping @Sendable () async -> CertificateFingerprint?, deliver: @escaping MediaSocket.Handler
    ) {
        self.server = server
        self.username = username
        self.password = password
        self.left = transports
        self.socket = socket
        self.pinned = pinned
        self.deliver = deliver
    }

    /// False once the way to the relay in use closed under it (a stream's connection).
    var isOpen: Bool { link?.isOpen ?? false }

    /// The way media takes now, once one is up.
    var transport: RelayTransport? { isReady ? link?.transport : nil }

    /// Opens the first way to the relay.
    func start(now: Double) -> [Event] { next(now: now) }

    /// Media to and from `peer` only, once allocated (a channel is bound to it).
    func permit(_ peer: TransportAddress, now: Double) -> [Event] {
        self.peer = peer
        return bindPeer(now: now)
    }

    /// A datagram (or stream frame) from `server`.
    func receive(_ bytes: [UInt8], now: Double) -> Received {
        guard var relay = client else { return .control([]) }
        if let (peer, payload) = relay.unwrap(bytes) { return .media(peer: peer, payload: payload) }
        let actions = relay.receive(bytes, now: now)
        client = relay
        return .control(apply(actions, now: now))
    }

    /// Resends what is unanswered, refreshes the allocation, takes up a stream that connected.
    func tick(now: Double) -> [Event] {
        if let outcome = connecting?.take() {
            connecting = nil
            switch outcome {
            case let .success(stream): return allocate(over: stream, now: now)
            case let .failure(reason): return failedWay(reason, now: now)
            }
        }
        guard var relay = client else { return [] }
        let actions = relay.tick(now: now)
        client = relay
        return apply(actions, now: now)
    }

    /// `payload` to the peer through the relay; nothing before a channel is bound.
    func send(_ payload: [UInt8]) {
        guard isReady, let client, let link, let peer else { return }
        link.send(client.wrap(payload, to: peer))
    }

    /// Releases the allocation and closes a stream (a stream still connecting is closed when it does).
    func close(now: Double) {
        connecting?.abandon()
        connecting = nil
        if var relay = client, let link {
            for case let .send(bytes) in relay.release(now: now) { link.send(bytes) }
            client = relay
        }
        link?.close()
        link = nil
        client = nil
        isReady = false
    }

    // MARK: - Ways to the relay

    private func next(now: Double) -> [Event] {
        guard !left.isEmpty else { return [.failed(lastFailure)] }
        let transport = left.removeFirst()
        guard transport != .udp else { return allocate(over: .datagram(socket, to: server), now: now) }
        let outcome = StreamOutcome()
        connecting = outcome
        let (server, pinned, deliver) = (server, pinned, deliver)
        Task {
            let fingerprint = transport == .tls ? await pinned() : nil
            do {
                outcome.put(.success(try await RelayLink.stream(to: server, tls: transport == .tls, pinned: fingerprint, deliver: deliver)))
            } catch {
                outcome.put(.failure("relay over \(transport.rawValue): cannot connect to \(server): \(error)"))
            }
        }
        return []
    }

    private func allocate(over link: RelayLink, now: Double) -> [Event] {
        var relay = RelayClient(
            username: username, password: password, integrity: STUNIntegrity.longTermCredential, transport: link.transport)
        let actions = relay.start(now: now)
        client = relay
        self.link = link
        return apply(actions, now: now)
    }

    private func failedWay(_ reason: String, now: Double) -> [Event] {
        lastFailure = reason
        return (left.isEmpty ? [] : [.warning(reason)]) + next(now: now)
    }

    private func bindPeer(now: Double) -> [Event] {
        guard var relay = client, let peer, case .allocated = relay.state else { return [] }
        let actions = relay.permit(peer, now: now)
        client = relay
        return apply(actions, now: now)
    }

    private func apply(_ actions: [RelayClient.Action], now: Double) -> [Event] {
        var events: [Event] = []
        for action in actions {
            switch action {
            case let .send(bytes):
                link?.send(bytes)
            case let .allocated(address, _):
                relayed = address
                events.append(.allocated(address))
                events += bindPeer(now: now)
            case let .channelBound(bound):
                guard bound == peer, !isReady, let link else { continue }
                isReady = true
                events.append(.ready(link.transport))
            case let .failed(reason):
                guard case .failed = client?.state, let link else {
                    events.append(.warning("relay: \(reason)"))
                    continue
                }
                // The allocation itself failed: the next way to the relay, if any.
                link.close()
                self.link = nil
                client = nil
                events += failedWay("relay over \(link.transport.rawValue): \(reason)", now: now)
            }
        }
        return events
    }
}

/// Where a stream being connected leaves its outcome for the path's next tick; a stream that
/// connects after the path was closed is closed at once. The mutex guards both.
private final class StreamOutcome: Sendable {
    enum Outcome: Sendable {
        case success(RelayLink)
        case failure(String)
    }

    private let state = Mutex<(outcome: Outcome?, abandoned: Bool)>((nil, false))

    func put(_ outcome: Outcome) {
        let abandoned = state.withLock { state in
            if !state.abandoned { state.outcome = outcome }
            return state.abandoned
        }
        if abandoned, case let .success(link) = outcome { link.close() }
    }

    func take() -> Outcome? {
        state.withLock { state in
            defer { state.outcome = nil }
            return state.outcome
        }
    }

    func abandon() {
        let pending = state.withLock { state in
            state.abandoned = true
            defer { state.outcome = nil }
            return state.outcome
        }
        if case let .success(link) = pending { link.close() }
    }
}
