import DuetCrypto
import DuetWire
import Logging
import NIOCore
import Synchronization

/// Serves one device's TLS connection: challenge, authentication, then requests in order.
/// Nothing the peer sends can crash the server: bad frames get an `error` reply, and a
/// connection that keeps misbehaving (or sends a frame that cannot be skipped) is closed.
struct SignalingConnection {
    let context: SignalingContext

    private enum Verdict { case keepOpen, close }

    /// The connection's own things every step needs: where it comes from and where replies go.
    private struct Peer {
        let id: SignalingHub.ConnectionID
        /// The address meeting join attempts are counted against.
        let source: String
        let outbox: SignalingOutbox
        let logger: Logger

        func reply(_ requestID: UInt32?, _ message: ServerMessage) {
            outbox.send(ServerFrame(id: requestID, message: message))
        }
    }

    func run(_ channel: SignalingService.Connection) async {
        let underlying = channel.channel
        let source = underlying.remoteAddress?.ipAddress ?? "unknown"
        let outbox = makeOutbox(for: underlying, source: source)
        let id = await context.switchboard.add(outbox)
        var logger = context.logger
        logger[metadataKey: "connection"] = "\(id)"
        let peer = Peer(id: id, source: source, outbox: outbox, logger: logger)
        let nonce = Self.makeNonce()
        outbox.send(ServerFrame(id: nil, message: .challenge(.init(nonce: Base64Bytes(nonce)))))
        let login = LoggedInKey()
        let loginDeadline = closeUnlessLoggedIn(underlying, outbox: outbox, login: login)
        defer { loginDeadline.cancel() }
        do {
            try await exchange(channel, nonce: nonce, peer: peer, login: login)
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
        outbox.finish()
        await cleanUp(peer, login: login)
    }

    private static func makeNonce() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<AuthenticationTranscript.nonceByteCount).map { _ in rng.next() }
    }

    /// No login in time: say why, then close (the read loop then ends).
    private func closeUnlessLoggedIn(_ channel: any Channel, outbox: SignalingOutbox, login: LoggedInKey) -> Task<Void, Never> {
        let timeout = context.loginTimeout
        return Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled, login.key.withLock({ $0 }) == nil else { return }
            let message = "no authentication within \(timeout); closing the connection"
            outbox.send(ServerFrame(id: nil, message: .error(.init(code: .notAuthenticated, message: message))))
            try? await Task.sleep(for: .milliseconds(100))  // let the error reach the wire
            channel.close(promise: nil)
        }
    }

    /// The connection's two halves: the outbox drained to the socket, and requests served in
    /// order until the peer or a request ends the connection.
    private func exchange(_ channel: SignalingService.Connection, nonce: [UInt8], peer: Peer, login: LoggedInKey) async throws {
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await body in peer.outbox.frames {
                        try await outbound.write(ByteBuffer(bytes: body))
                        peer.outbox.didWrite(body)
                    }
                }
                var session = SignalingSession(nonce: nonce)
                try await read(inbound, session: &session, peer: peer) { key in
                    login.key.withLock { $0 = key.rawRepresentation }
                }
                peer.outbox.finish()
                try await group.waitForAll()
            }
        }
    }

    /// What stays behind a closed connection: its number goes offline (leaving its group
    /// calls), its key leaves its meetings.
    private func cleanUp(_ peer: Peer, login: LoggedInKey) async {
        if let number = await context.switchboard.remove(peer.id) {
            peer.logger.info("offline", metadata: ["number": "\(number)"])
            await context.announcePresence(of: number, online: false)
            await GroupCallSignaling(context: context).drop(number)
        }
        if let key = login.key.withLock({ $0 }) { await MeetingSignaling(context: context).drop(key: key) }
    }

    /// The connection's bounded reply queue; it closes the channel when the client stops reading.
    private func makeOutbox(for channel: any Channel, source: String) -> SignalingOutbox {
        var logger = context.logger
        logger[metadataKey: "source"] = "\(source)"
        return SignalingOutbox(limit: context.limits.outboxBytes, meter: context.outboxMeter, logger: logger) {
            channel.close(promise: nil)
        }
    }

    /// Serves requests in order until the peer closes, a frame cannot be read, or a request ends
    /// the connection; `authenticated` is told the key once the session has logged in.
    private func read(
        _ inbound: NIOAsyncChannelInboundStream<Result<ClientRequest, SignalingDecodingError>>, session: inout SignalingSession,
        peer: Peer, authenticated: (IdentityPublicKey) -> Void
    ) async throws {
        do {
            for try await request in inbound {
                if await handle(request, session: &session, peer: peer) == .close { return }
                if case let .authenticated(key) = session.state { authenticated(key) }
            }
        } catch let failure as FrameDecoder.Failure {
            // The pipeline's frame decoder found a bad length: the stream cannot be resynchronised.
            let code: SignalingErrorCode = failure == .emptyFrame ? .invalidMessage : .frameTooLarge
            peer.reply(nil, .error(.init(code: code, message: "\(failure); closing the connection")))
        }
    }

    private func handle(
        _ decoded: Result<ClientRequest, SignalingDecodingError>, session: inout SignalingSession, peer: Peer
    ) async -> Verdict {
        let request: ClientRequest
        switch decoded {
        case let .success(decodedRequest): request = decodedRequest
        case let .failure(error):
            return violation(error.id, .init(code: error.code, message: error.description), session: &session, peer: peer)
        }
        switch session.admit(request.message) {
        case let .violation(error):
            return violation(request.id, error, session: &session, peer: peer)
        case let .authenticate(auth, nonce):
            return await authenticate(auth, nonce: nonce, requestID: request.id, session: &session, peer: peer)
        case let .request(message, key):
            do {
                try await serve(message, requestID: request.id, key: key, peer: peer)
            } catch {
                peer.reply(request.id, .error(error.reply))
            }
            return .keepOpen
        }
    }

    /// Answers a protocol violation, and closes the connection once it has made too many.
    private func violation(_ requestID: UInt32?, _ error: Signaling.ErrorReply, session: inout SignalingSession, peer: Peer) -> Verdict {
        peer.reply(requestID, .error(error))
        guard session.recordViolation() else { return .keepOpen }
        peer.logger.info("closing a misbehaving connection", metadata: ["violations": "\(session.violations)"])
        peer.reply(nil, .error(.init(code: .tooManyErrors, message: "\(session.violations) protocol errors; closing the connection")))
        return .close
    }

    /// Checks the signed challenge; a bad signature closes the connection, a good one binds
    /// the key (and its number, if any) to it.
    private func authenticate(
        _ auth: Signaling.Authenticate, nonce: [UInt8], requestID: UInt32?, session: inout SignalingSession, peer: Peer
    ) async -> Verdict {
        let transcript = AuthenticationTranscript.message(nonce: nonce, certificate: context.fingerprint)
        guard let key = try? IdentityPublicKey(rawRepresentation: auth.identityKey.bytes),
            key.isValidSignature(auth.signature.bytes, for: transcript)
        else {
            peer.logger.info("authentication failed")
            let message = "the signature does not verify for this identity key, challenge and server certificate; closing the connection"
            peer.reply(requestID, .error(.init(code: .badSignature, message: message)))
            return .close
        }
        session.didAuthenticate(as: key)
        await context.switchboard.authenticated(peer.id, key: key.rawRepresentation)
        do {
            let number = try await context.directory.number(boundTo: key.rawRepresentation)
            let nodes = context.switchboard.siblings()
            peer.reply(requestID, .authenticated(.init(number: number, media: context.media.description, nodes: nodes)))
            peer.logger.info("authenticated", metadata: ["key": "\(key.shortFingerprint)", "number": "\(number ?? "-")"])
            if let number { await goOnline(peer.id, number: number) }
        } catch {
            peer.reply(requestID, .error(error.reply))
        }
        await context.deliverPendingKeyChanges(to: key.rawRepresentation)
        return .keepOpen
    }

    /// Routes one request of a logged-in device to what answers it.
    private func serve(_ request: SignalingRequest, requestID: UInt32?, key: IdentityPublicKey, peer: Peer) async throws(DirectoryError) {
        let directory = context.directory
        let raw = key.rawRepresentation
        let reply = { (message: ServerMessage) in peer.reply(requestID, message) }
        switch request {
        case let .register(request):
            try await register(request, key: key, peer: peer, reply: reply)
        case let .uploadPrekeys(request):
            reply(.prekeyCount(.init(count: try await directory.uploadPrekeys(key: key, request))))
        case let .fetchBundle(query):
            try await fetchBundle(query, requester: raw, reply: reply)
        case let .fetchBundles(list):
            try await fetchBundles(list, requester: raw, reply: reply)
        case let .lookup(query):
            let identity = try await directory.lookup(number: query.number, requester: raw)
            let online = await context.switchboard.isOnline(query.number)
            reply(.lookupResult(.init(number: query.number, identityKey: Base64Bytes(identity), online: online)))
        case let .watch(list):
            try await watch(list, watcher: raw, reply: reply)
        case let .unwatch(list):
            try await directory.unwatch(list.numbers, watcher: raw)
            reply(.presenceList(.init(presence: [])))
        case .ping:
            reply(.pong)
        case let .callSignal(request):
            reply(await CallSignaling(context: context).forward(request, fromKey: raw))
        case let .callSignals(batch):
            reply(await CallSignaling(context: context).forward(batch, fromKey: raw))
        case let .relayCredentials(request):
            reply(await CallSignaling(context: context).relayCredentials(request, forKey: raw))
        case let .group(request):
            reply(try await GroupSignaling(context: context).serve(request, fromKey: raw))
        case let .groupCall(request):
            reply(try await GroupCallSignaling(context: context).serve(request, fromKey: raw))
        case let .meeting(request):
            reply(try await MeetingSignaling(context: context).serve(request, key: key, source: peer.source))
        case let .notice(request):
            reply(
                try await NoticeSignaling(directory: directory, limiter: context.noticeLimiter).serve(
                    request, fromKey: raw, source: peer.source))
        }
    }

    private func register(
        _ request: Signaling.Register, key: IdentityPublicKey, peer: Peer, reply: (ServerMessage) -> Void
    ) async throws(DirectoryError) {
        let result = try await context.directory.register(key: key, request)
        reply(.registered(.init(number: result.number, oneTimePrekeyCount: result.oneTimePrekeyCount)))
        context.logger.info("registered", metadata: ["number": "\(result.number)", "moved": "\(result.previousKey != nil)"])
        await goOnline(peer.id, number: result.number)
        for watcher in result.notifiedWatchers { await context.deliverPendingKeyChanges(to: watcher) }
    }

    private func fetchBundle(_ query: Signaling.NumberQuery, requester raw: [UInt8], reply: (ServerMessage) -> Void)
        async throws(DirectoryError)
    {
        let directory = context.directory
        // A stranger's fetch is refused before it can spend the number's handout rate.
        guard try await directory.number(boundTo: raw) != nil else { throw .notRegistered }
        let (bundle, remaining) = try await directory.fetchBundle(
            number: query.number, requester: raw,
            withOneTimePrekey: context.prekeyHandouts.allows(requester: raw, number: query.number))
        reply(.bundle(bundle))
        await context.warnIfPrekeysLow(number: query.number, remaining: remaining)
    }

    /// Several bundles at once (a group call member opening its channels); each one-time
    /// prekey under the same handout rates as one fetched alone.
    private func fetchBundles(_ list: Signaling.NumberList, requester raw: [UInt8], reply: (ServerMessage) -> Void)
        async throws(DirectoryError)
    {
        let numbers = Array(Set(list.numbers)).sorted()
        guard numbers.count <= Signaling.maximumGroupMembers else { throw .tooManyBundles(numbers.count) }
        // Every number checked before any spends the handout rates.
        for number in numbers { try PrekeyValidation.check(number: number) }
        let directory = context.directory
        guard try await directory.number(boundTo: raw) != nil else { throw .notRegistered }
        let wanted = numbers.map { number in
            Directory.BundleWanted(number: number, withOneTimePrekey: context.prekeyHandouts.allows(requester: raw, number: number))
        }
        let fetched = try await directory.fetchBundles(wanted, requester: raw)
        reply(.bundles(.init(bundles: fetched.map(\.bundle))))
        for (bundle, remaining) in fetched { await context.warnIfPrekeysLow(number: bundle.number, remaining: remaining) }
    }

    private func watch(_ list: Signaling.NumberList, watcher raw: [UInt8], reply: (ServerMessage) -> Void) async throws(DirectoryError) {
        try await context.directory.watch(list.numbers, watcher: raw)
        let registered = try await context.directory.registeredNumbers(among: list.numbers)
        var presence: [Signaling.Presence] = []
        for number in list.numbers {
            let online = registered.contains(number) ? await context.switchboard.isOnline(number) : false
            presence.append(.init(number: number, online: online))
        }
        reply(.presenceList(.init(presence: presence)))
    }

    /// Marks `number` online on this connection, tells its watchers, and asks for a top-up
    /// if its one-time prekeys are low.
    private func goOnline(_ id: SignalingHub.ConnectionID, number: String) async {
        if await context.switchboard.bind(id, number: number) {
            await context.announcePresence(of: number, online: true)
        }
        if let remaining = try? await context.directory.oneTimePrekeyCount(number: number) {
            await context.warnIfPrekeysLow(number: number, remaining: remaining)
        }
    }
}

/// The identity key a connection logged in with, nil until it has: read by the login
/// deadline, and by the cleanup after the connection closes.
private final class LoggedInKey: Sendable {
    let key = Mutex<[UInt8]?>(nil)
}
