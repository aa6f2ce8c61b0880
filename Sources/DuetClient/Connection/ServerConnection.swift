import DuetCrypto
import DuetWire

/// A device's connection to its `duet server` (docs/server.md): TLS pinned to the server's
/// certificate fingerprint, login by signed challenge, requests answered in `async` calls,
/// and unasked-for news (key changes, presence, low prekeys) on `events`. After the first
/// successful `connect()` a dropped connection is re-established with exponential backoff —
/// to the node it was on, else to another node of the server that the last login named, under
/// the same pin; a changed certificate or a refused login stops that, as they will not fix
/// themselves.
public actor ServerConnection {
    public struct Registration: Sendable, Equatable {
        public let number: String
        public let oneTimePrekeyCount: Int
        public init(number: String, oneTimePrekeyCount: Int) {
            self.number = number
            self.oneTimePrekeyCount = oneTimePrekeyCount
        }
    }

    public struct LookupResult: Sendable, Equatable {
        public let number: String
        public let identityKey: IdentityPublicKey
        public let online: Bool
        public init(number: String, identityKey: IdentityPublicKey, online: Bool) {
            self.number = number
            self.identityKey = identityKey
            self.online = online
        }
    }

    public nonisolated let server: HostPort
    /// The node this connection speaks to now: `server` at first, another of the server's
    /// nodes after a reconnect found `server` gone (docs/deployment.md "When a device's node
    /// dies"). Media addresses a login names relative to signaling resolve against it.
    public private(set) var node: HostPort
    public nonisolated let events: AsyncStream<ServerEvent>
    /// The certificate fingerprint seen on the last successful connection: what a first
    /// use stores as the pin.
    public private(set) var serverFingerprint: CertificateFingerprint?
    /// The number the server binds to this device's key (from login or registration).
    public private(set) var registeredNumber: String?
    /// The server's media port as this device should address it, as the last login said.
    public private(set) var mediaAddress: HostPort?

    let identity: IdentityKeyPair
    private var pinned: CertificateFingerprint?
    /// The other nodes the last login named, tried in order when `node` does not answer.
    private(set) var otherNodes: [HostPort] = []
    private let requestTimeout: Duration
    private var backoff: ReconnectBackoff
    private let eventSink: AsyncStream<ServerEvent>.Continuation
    private var channel: SignalingChannel?
    /// Bumped for every channel, so news from an old channel is recognised and ignored.
    private var generation = 0
    private var nextRequestID: UInt32 = 0
    private var pending: [UInt32: CheckedContinuation<ServerMessage, any Error>] = [:]
    private var isClosed = false

    /// - Parameter pinnedFingerprint: the fingerprint stored on first use, or nil to accept
    ///   whatever certificate the server shows (then read `serverFingerprint` and store it).
    public init(
        server: HostPort, identity: IdentityKeyPair, pinnedFingerprint: String?,
        reconnect: ReconnectBackoff.Policy = .init(), requestTimeout: Duration = .seconds(30)
    ) throws(ServerConnectionError) {
        self.server = server
        self.node = server
        self.identity = identity
        if let pinnedFingerprint {
            do { pinned = try CertificateFingerprint(parsing: pinnedFingerprint) } catch {
                throw .invalidPinnedFingerprint(pinnedFingerprint)
            }
        }
        self.requestTimeout = requestTimeout
        self.backoff = ReconnectBackoff(policy: reconnect)
        (events, eventSink) = AsyncStream.makeStream(of: ServerEvent.self, bufferingPolicy: .bufferingNewest(1024))
    }

    /// Connects and logs in once, reporting any failure to the caller (no retries); from
    /// then on drops are reconnected in the background. Returns the bound number, if any.
    @discardableResult
    public func connect() async throws(ServerConnectionError) -> String? {
        guard !isClosed else { throw .closed }
        if channel != nil { return registeredNumber }
        // A connect by hand starts afresh, also after reconnecting gave up.
        backoff = ReconnectBackoff(policy: backoff.policy)
        guard case .connect = backoff.handle(.connectRequested) else { throw .closed }
        do {
            try await openChannel(to: node)
        } catch {
            backoff = ReconnectBackoff(policy: backoff.policy)
            throw error
        }
        return registeredNumber
    }

    /// Closes the connection for good; waiting requests fail with `.closed`.
    public func close() {
        isClosed = true
        _ = backoff.handle(.closed)
        channel?.close()
        channel = nil
        failPending(.closed)
        eventSink.finish()
    }

    /// Test hook: the connection drops as a network would drop it (the TCP connection
    /// closes under it); reconnecting follows as after any drop.
    func dropForTesting() {
        channel?.close()
    }

    /// The device's addresses changed: a TCP connection from an address that is gone may not
    /// notice for minutes, so drop it now and reconnect (as after any drop) from the new one.
    public func networkChanged() {
        channel?.close()
    }

    // MARK: - Requests

    public func register(
        number: String, name: String?, invite: String?, signedPrekey: SignedPrekeyPublic,
        oneTimePrekeys: [OneTimePrekeyPublic]
    ) async throws(ServerConnectionError) -> Registration {
        let request = Signaling.Register(
            number: number, name: name, invite: invite, signedPrekey: signedPrekey.wire,
            oneTimePrekeys: oneTimePrekeys.map(\.wire))
        guard case let .registered(result) = try await send(.register(request)) else { throw unexpected("register") }
        registeredNumber = result.number
        return Registration(number: result.number, oneTimePrekeyCount: result.oneTimePrekeyCount)
    }

    /// Adds one-time prekeys (and optionally rotates the signed prekey); returns how many the
    /// server now holds.
    public func uploadPrekeys(signedPrekey: SignedPrekeyPublic? = nil, oneTimePrekeys: [OneTimePrekeyPublic])
        async throws(ServerConnectionError) -> Int
    {
        let request = Signaling.UploadPrekeys(signedPrekey: signedPrekey?.wire, oneTimePrekeys: oneTimePrekeys.map(\.wire))
        guard case let .prekeyCount(result) = try await send(.uploadPrekeys(request)) else { throw unexpected("uploadPrekeys") }
        return result.count
    }

    /// The bundle to start X3DH with `number`; its signed prekey's signature is checked here.
    public func fetchBundle(number: String) async throws(ServerConnectionError) -> PrekeyBundle {
        guard case let .bundle(wire) = try await send(.fetchBundle(.init(number: number))), wire.number == number else {
            throw unexpected("fetchBundle")
        }
        do { return try PrekeyBundle(wire: wire) } catch { throw .invalidResponse("bundle for \(number): \(error)") }
    }

    /// Several numbers' bundles in one request (one transaction on the server): an entry for
    /// every number asked, the bundle (its signature checked) or why there is none.
    public func fetchBundles(numbers: [String]) async throws(ServerConnectionError) -> [String: Result<
        PrekeyBundle, ServerConnectionError
    >] {
        guard case let .bundles(wire) = try await send(.fetchBundles(.init(numbers: numbers))) else { throw unexpected("fetchBundles") }
        var answers: [String: Result<PrekeyBundle, ServerConnectionError>] = [:]
        for number in numbers {
            guard let bundle = wire.bundles.first(where: { $0.number == number }) else {
                answers[number] = .failure(.server(code: .unknownNumber, message: "\(number) is not registered on this server"))
                continue
            }
            do { answers[number] = .success(try PrekeyBundle(wire: bundle)) } catch {
                answers[number] = .failure(.invalidResponse("bundle for \(number): \(error)"))
            }
        }
        return answers
    }

    public func lookup(number: String) async throws(ServerConnectionError) -> LookupResult {
        guard case let .lookupResult(wire) = try await send(.lookup(.init(number: number))), wire.number == number else {
            throw unexpected("lookup")
        }
        do {
            return LookupResult(
                number: number, identityKey: try IdentityPublicKey(rawRepresentation: wire.identityKey.bytes), online: wire.online)
        } catch {
            throw .invalidResponse("identity key for \(number): \(error)")
        }
    }

    /// Watches numbers for presence and key changes (kept by the server across connections);
    /// returns whether each is online now.
    public func watch(_ numbers: [String]) async throws(ServerConnectionError) -> [String: Bool] {
        guard case let .presenceList(list) = try await send(.watch(.init(numbers: numbers))) else { throw unexpected("watch") }
        return Dictionary(list.presence.map { ($0.number, $0.online) }, uniquingKeysWith: { $1 })
    }

    public func unwatch(_ numbers: [String]) async throws(ServerConnectionError) {
        guard case .presenceList = try await send(.unwatch(.init(numbers: numbers))) else { throw unexpected("unwatch") }
    }

    public func ping() async throws(ServerConnectionError) {
        guard case .pong = try await send(.ping) else { throw unexpected("ping") }
    }

    func unexpected(_ request: String) -> ServerConnectionError {
        .invalidResponse("unexpected reply to \"\(request)\"")
    }

    /// Sends one request without waiting for (or keeping) its reply.
    func post(_ message: ClientMessage) {
        guard !isClosed, let channel else { return }
        nextRequestID = nextRequestID == .max ? 1 : nextRequestID + 1
        channel.send(ClientRequest(id: nextRequestID, message: message))
    }

    /// Sends one request and waits for its reply; an `error` reply is thrown as `.server`.
    func send(_ message: ClientMessage) async throws(ServerConnectionError) -> ServerMessage {
        guard !isClosed else { throw .closed }
        guard let channel else { throw .notConnected }
        nextRequestID = nextRequestID == .max ? 1 : nextRequestID + 1
        let id = nextRequestID
        let timeout = requestTimeout
        let reply: ServerMessage
        do {
            reply = try await withCheckedThrowingContinuation { continuation in
                pending[id] = continuation
                channel.send(ClientRequest(id: id, message: message))
                Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    await self?.resume(id, with: .failure(ServerConnectionError.timedOut(request: message.type)))
                }
            }
        } catch {
            throw error as? ServerConnectionError ?? .invalidResponse("\(error)")
        }
        if case let .error(error) = reply { throw .server(code: error.code, message: error.message) }
        return reply
    }

    private func resume(_ id: UInt32, with result: Result<ServerMessage, any Error>) {
        pending.removeValue(forKey: id)?.resume(with: result)
    }

    private func failPending(_ error: ServerConnectionError) {
        let waiting = pending
        pending = [:]
        for continuation in waiting.values { continuation.resume(throwing: error) }
    }

    // MARK: - Channel and reconnection

    private func openChannel(to address: HostPort) async throws(ServerConnectionError) {
        generation += 1
        let current = generation
        let opened = try await SignalingChannel.open(
            server: address, identity: identity, pinned: pinned,
            onFrame: { [weak self] frame in await self?.received(frame, generation: current) },
            onClose: { [weak self] reason in await self?.channelClosed(generation: current, reason: reason) })
        // Re-check after the await: close() may have run, or a newer channel may exist.
        guard !isClosed, current == generation else {
            opened.close()
            throw .closed
        }
        channel = opened
        node = address
        otherNodes = Self.reconnectable(opened.nodes, server: server)
        pinned = opened.fingerprint
        serverFingerprint = opened.fingerprint
        registeredNumber = opened.number
        mediaAddress = opened.media
        _ = backoff.handle(.connected)
        eventSink.yield(.connected(number: opened.number))
    }

    private func received(_ frame: ServerFrame, generation from: Int) {
        guard from == generation else { return }
        if let id = frame.id, id != 0 {
            resume(id, with: .success(frame.message))
            return
        }
        switch frame.message {
        case let .keyChanged(notice):
            if let key = try? IdentityPublicKey(rawRepresentation: notice.newIdentityKey.bytes) {
                eventSink.yield(.keyChanged(number: notice.number, newIdentityKey: key))
            }
        case let .presence(presence):
            eventSink.yield(.presence(number: presence.number, online: presence.online))
        case let .prekeysLow(low):
            eventSink.yield(.prekeysLow(remaining: low.remaining))
        case let .callSignal(signal):
            eventSink.yield(.callSignal(from: signal.from, callID: signal.callID, kind: signal.kind, payload: signal.payload.bytes))
        case let .groupChanged(change):
            eventSink.yield(.groupChanged(GroupChange(change)))
        case let .groupCallChanged(change):
            eventSink.yield(.groupCallChanged(GroupCallInfo(change.call), joined: change.joined, left: change.left))
        case let .groupCallLost(lost):
            eventSink.yield(.groupCallLost(callID: lost.callID))
        case let .nodes(list):
            otherNodes = Self.reconnectable(list.nodes.compactMap { try? HostPort(parsing: $0) }, server: server)
        case let .meetingChanged(change):
            eventSink.yield(.meetingChanged(change))
        case let .meetingAdmitted(meeting):
            eventSink.yield(.meetingAdmitted(meeting))
        case let .meetingClosed(closed):
            eventSink.yield(.meetingClosed(closed))
        default:
            break
        }
    }

    /// One reconnect attempt: the node last reached, the address this connection was made for
    /// (a name in front of the nodes, or a node back from the dead), then the other nodes the
    /// last login named, each under the same pin (a node serving another certificate is
    /// refused, as any server would be). The first node's error decides what the backoff does
    /// when none answers. A connect by hand meanwhile supersedes it (`.closed`) and reports its
    /// own outcome: nothing more is tried.
    private func reconnect() async throws(ServerConnectionError) {
        var firstError: ServerConnectionError?
        for candidate in Self.distinct([node, server] + otherNodes) {
            do {
                try await openChannel(to: candidate)
                return
            } catch .closed {
                return
            } catch {
                guard !isClosed, channel == nil else { return }
                firstError = firstError ?? error
            }
        }
        throw firstError ?? .closed
    }

    /// The nodes a login named that this device will try: at most `SignalingChannel.maximumNodes`,
    /// and no loopback address unless `server` is on the loopback itself — a server cannot make
    /// a device knock on services of its own machine.
    static func reconnectable(_ named: [HostPort], server: HostPort) -> [HostPort] {
        func isLoopback(_ address: HostPort) -> Bool {
            Loopback.isName(address.host) || TransportAddress(literal: address.host, port: 0)?.isLoopback == true
        }
        let local = isLoopback(server)
        return distinct(named.filter { local || !isLoopback($0) }).prefix(SignalingChannel.maximumNodes).map { $0 }
    }

    /// Each address once (host names compared without case), in order.
    static func distinct(_ addresses: [HostPort]) -> [HostPort] {
        var seen: Set<String> = []
        return addresses.filter { seen.insert("\($0.host.lowercased()):\($0.port)").inserted }
    }

    private func channelClosed(generation from: Int, reason: String) async {
        guard from == generation, !isClosed else { return }
        channel = nil
        failPending(.disconnected)
        eventSink.yield(.disconnected(reason: reason))
        var action = backoff.handle(.connectionLost)
        while !isClosed {
            switch action {
            case let .wait(delay):
                let attempt: Int
                if case let .waiting(next) = backoff.state { attempt = next } else { attempt = 1 }
                eventSink.yield(.reconnecting(attempt: attempt, after: delay))
                try? await Task.sleep(for: delay)
                guard !isClosed, channel == nil else { return }
                action = backoff.handle(.delayElapsed)
            case .connect:
                do {
                    try await reconnect()
                    return
                } catch {
                    guard !isClosed, channel == nil else { return }
                    action = backoff.handle(.attemptFailed(retryable: error.isRetryable))
                    if action == .giveUp { eventSink.yield(.gaveUp(error)) }
                }
            case .giveUp, .none:
                return
            }
        }
    }
}
