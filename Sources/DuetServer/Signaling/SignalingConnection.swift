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

    func run(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let underlying = channel.channel
        // The address meeting join attempts are counted against.
        let source = underlying.remoteAddress?.ipAddress ?? "unknown"
        let outbox = makeOutbox(for: underlying, source: source)
        let id = await context.hub.add(outbox)
        let identity = ConnectionIdentity()
        var logger = context.logger
        logger[metadataKey: "connection"] = "\(id)"
        var nonce = [UInt8](repeating: 0, count: AuthenticationTranscript.nonceByteCount)
        var rng = SystemRandomNumberGenerator()
        for i in nonce.indices { nonce[i] = rng.next() }
        outbox.send(ServerFrame(id: nil, message: .challenge(.init(nonce: Base64Bytes(nonce)))))
        let initialNonce = nonce
        let loggedIn = LoginFlag()
        let timeout = context.loginTimeout
        let loginDeadline = Task {
            // No login in time: say why, then close (the read loop then ends).
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled, !loggedIn.value.withLock({ $0 }) else { return }
            outbox.send(
                ServerFrame(
                    id: nil,
                    message: .error(
                        .init(
                            code: .notAuthenticated, message: "no authentication within \(timeout); closing the connection"))))
            try? await Task.sleep(for: .milliseconds(100))  // let the error reach the wire
            underlying.close(promise: nil)
        }
        defer { loginDeadline.cancel() }

        do {
            try await channel.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await bytes in outbox.frames {
                            try await outbound.write(ByteBuffer(bytes: bytes))
                            outbox.didWrite(bytes.count)
                        }
                    }
                    var session = SignalingSession(nonce: initialNonce)
                    try await read(inbound, session: &session, connection: id, source: source, outbox: outbox, logger: logger) { key in
                        loggedIn.value.withLock { $0 = true }
                        identity.key.withLock { $0 = key.rawRepresentation }
                    }
                    outbox.finish()
                    try await group.waitForAll()
                }
            }
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
        outbox.finish()
        if let number = await context.hub.remove(id) {
            logger.info("offline", metadata: ["number": "\(number)"])
            await context.announcePresence(of: number, online: false)
            await GroupCallSignaling(context: context).drop(number)
        }
        if let key = identity.key.withLock({ $0 }) { await MeetingSignaling(context: context).drop(key: key) }
    }

    /// The connection's bounded reply queue; it closes the channel when the client stops reading.
    private func makeOutbox(for channel: any Channel, source: String) -> SignalingOutbox {
        var logger = context.logger
        logger[metadataKey: "source"] = "\(source)"
        return SignalingOutbox(limit: context.limits.outboxBytes, meter: context.outboxMeter, logger: logger) {
            channel.close(promise: nil)
        }
    }

    /// Serves frames in order until the peer closes, a frame cannot be read, or a request ends
    /// the connection; `authenticated` is told the key once the session has logged in.
    private func read(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, session: inout SignalingSession, connection id: SignalingHub.ConnectionID,
        source: String, outbox: SignalingOutbox, logger: Logger, authenticated: (IdentityPublicKey) -> Void
    ) async throws {
        var decoder = FrameDecoder()
        for try await buffer in inbound {
            decoder.append(buffer.readableBytesView)
            while true {
                let body: [UInt8]
                do {
                    guard let next = try decoder.nextFrame() else { break }
                    body = next
                } catch {
                    // The stream cannot be resynchronised after a bad length.
                    let code: SignalingErrorCode = error == .emptyFrame ? .invalidMessage : .frameTooLarge
                    outbox.send(ServerFrame(id: nil, message: .error(.init(code: code, message: "\(error); closing the connection"))))
                    return
                }
                if await handle(body, session: &session, connection: id, source: source, outbox: outbox, logger: logger) == .close {
                    return
                }
                if case let .authenticated(key) = session.state { authenticated(key) }
            }
        }
    }

    private func handle(
        _ body: [UInt8], session: inout SignalingSession, connection id: SignalingHub.ConnectionID, source: String,
        outbox: SignalingOutbox, logger: Logger
    ) async -> Verdict {
        func reply(_ requestID: UInt32?, _ message: ServerMessage) {
            outbox.send(ServerFrame(id: requestID, message: message))
        }
        func violation(_ requestID: UInt32?, _ error: Signaling.ErrorReply) -> Verdict {
            reply(requestID, .error(error))
            guard session.recordViolation() else { return .keepOpen }
            logger.info("closing a misbehaving connection", metadata: ["violations": "\(session.violations)"])
            reply(nil, .error(.init(code: .tooManyErrors, message: "\(session.violations) protocol errors; closing the connection")))
            return .close
        }

        let request: ClientRequest
        do {
            request = try SignalingCodec.decodeClientRequest(body)
        } catch {
            return violation(error.id, .init(code: error.code, message: error.description))
        }
        switch session.admit(request.message) {
        case let .violation(error):
            return violation(request.id, error)
        case let .authenticate(auth, nonce):
            let transcript = AuthenticationTranscript.message(nonce: nonce, certificate: context.fingerprint)
            guard let key = try? IdentityPublicKey(rawRepresentation: auth.identityKey.bytes),
                key.isValidSignature(auth.signature.bytes, for: transcript)
            else {
                logger.info("authentication failed")
                reply(
                    request.id,
                    .error(
                        .init(
                            code: .badSignature,
                            message:
                                "the signature does not verify for this identity key, challenge and server certificate; closing the connection"
                        )))
                return .close
            }
            session.didAuthenticate(as: key)
            await context.hub.authenticated(id, key: key.rawRepresentation)
            do {
                let number = try await context.directory.number(boundTo: key.rawRepresentation)
                reply(request.id, .authenticated(.init(number: number, media: context.media.description)))
                logger.info("authenticated", metadata: ["key": "\(key.shortFingerprint)", "number": "\(number ?? "-")"])
                if let number { await goOnline(id, number: number) }
            } catch {
                reply(request.id, .error(error.reply))
            }
            await context.deliverPendingKeyChanges(to: key.rawRepresentation)
            return .keepOpen
        case let .request(message, key):
            do {
                try await serve(message, requestID: request.id, key: key, connection: id, source: source, reply: reply)
            } catch {
                reply(request.id, .error(error.reply))
            }
            return .keepOpen
        }
    }

    private func serve(
        _ message: ClientMessage, requestID: UInt32?, key: IdentityPublicKey, connection id: SignalingHub.ConnectionID,
        source: String, reply: (UInt32?, ServerMessage) -> Void
    ) async throws(DirectoryError) {
        let directory = context.directory
        let raw = key.rawRepresentation
        switch message {
        case .authenticate:
            preconditionFailure("SignalingSession admits authenticate only before authentication")
        case let .register(request):
            let result = try await directory.register(key: key, request)
            reply(requestID, .registered(.init(number: result.number, oneTimePrekeyCount: result.oneTimePrekeyCount)))
            context.logger.info("registered", metadata: ["number": "\(result.number)", "moved": "\(result.previousKey != nil)"])
            await goOnline(id, number: result.number)
            for watcher in result.notifiedWatchers { await context.deliverPendingKeyChanges(to: watcher) }
        case let .uploadPrekeys(request):
            let count = try await directory.uploadPrekeys(key: key, request)
            reply(requestID, .prekeyCount(.init(count: count)))
        case let .fetchBundle(query):
            // A stranger's fetch is refused before it can spend the number's handout rate.
            guard try await directory.number(boundTo: raw) != nil else { throw .notRegistered }
            let (bundle, remaining) = try await directory.fetchBundle(
                number: query.number, requester: raw,
                withOneTimePrekey: context.prekeyHandouts.allows(requester: raw, number: query.number))
            reply(requestID, .bundle(bundle))
            await context.warnIfPrekeysLow(number: query.number, remaining: remaining)
        case let .lookup(query):
            let identity = try await directory.lookup(number: query.number, requester: raw)
            let online = await context.hub.isOnline(query.number)
            reply(requestID, .lookupResult(.init(number: query.number, identityKey: Base64Bytes(identity), online: online)))
        case let .watch(list):
            try await directory.watch(list.numbers, watcher: raw)
            let registered = try await directory.registeredNumbers(among: list.numbers)
            var presence: [Signaling.Presence] = []
            for number in list.numbers {
                let online = registered.contains(number) ? await context.hub.isOnline(number) : false
                presence.append(.init(number: number, online: online))
            }
            reply(requestID, .presenceList(.init(presence: presence)))
        case let .unwatch(list):
            try await directory.unwatch(list.numbers, watcher: raw)
            reply(requestID, .presenceList(.init(presence: [])))
        case .ping:
            reply(requestID, .pong)
        case let .callSignal(request):
            reply(requestID, await CallSignaling(context: context).forward(request, fromKey: raw))
        case let .relayCredentials(request):
            reply(requestID, await CallSignaling(context: context).relayCredentials(request, forKey: raw))
        case .createGroup, .addGroupMember, .removeGroupMember, .listGroups:
            reply(requestID, try await GroupSignaling(context: context).serve(message, fromKey: raw))
        case .startGroupCall, .joinGroupCall, .leaveGroupCall:
            reply(requestID, try await GroupCallSignaling(context: context).serve(message, fromKey: raw))
        case .createMeeting, .joinMeeting, .leaveMeeting, .admitToMeeting, .recordMeeting:
            reply(requestID, try await MeetingSignaling(context: context).serve(message, key: key, source: source))
        }
    }

    /// Marks `number` online on this connection, tells its watchers, and asks for a top-up
    /// if its one-time prekeys are low.
    private func goOnline(_ id: SignalingHub.ConnectionID, number: String) async {
        if await context.hub.bind(id, number: number) {
            await context.announcePresence(of: number, online: true)
        }
        if let remaining = try? await context.directory.oneTimePrekeyCount(number: number) {
            await context.warnIfPrekeysLow(number: number, remaining: remaining)
        }
    }
}

/// The identity key a connection logged in with, for the cleanup after it closes.
private final class ConnectionIdentity: Sendable {
    let key = Mutex<[UInt8]?>(nil)
}

/// Whether a connection has logged in; set by the read loop, read by the login deadline.
private final class LoginFlag: Sendable {
    let value = Mutex(false)
}
