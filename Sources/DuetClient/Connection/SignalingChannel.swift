import DuetCrypto
import DuetWire
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One live, logged-in TLS connection to the server. Opening it pins the certificate, answers
/// the challenge and waits for `authenticated`; afterwards every frame goes to `onFrame`, and
/// `onClose` runs once when the connection ends. `ServerConnection` owns reconnecting.
final class SignalingChannel: Sendable {
    let fingerprint: CertificateFingerprint
    /// The number the server has bound to this device's key, as of login.
    let number: String?
    /// The server's media port as this device should address it, as of login (if it said).
    let media: HostPort?
    private let outbox: AsyncStream<ClientRequest>.Continuation
    private let channel: any Channel

    private init(
        fingerprint: CertificateFingerprint, login: Signaling.Authenticated, outbox: AsyncStream<ClientRequest>.Continuation,
        channel: any Channel
    ) {
        self.fingerprint = fingerprint
        self.number = login.number
        self.media = login.media.flatMap { try? HostPort(parsing: $0) }
        self.outbox = outbox
        self.channel = channel
    }

    func send(_ request: ClientRequest) {
        outbox.yield(request)
    }

    func close() {
        outbox.finish()
        channel.close(promise: nil)
    }

    /// Connects, verifies the certificate against `pinned` and logs in as `identity`.
    static func open(
        server: HostPort, identity: IdentityKeyPair, pinned: CertificateFingerprint?,
        onFrame: @escaping @Sendable (ServerFrame) async -> Void,
        onClose: @escaping @Sendable (String) async -> Void
    ) async throws(ServerConnectionError) -> SignalingChannel {
        let seen = Mutex<CertificateFingerprint?>(nil)
        let tls: NIOSSLContext
        do { tls = try PinnedTLS.clientContext() } catch {
            throw .tlsFailed(server: server.description, reason: "\(error)")
        }
        let asyncChannel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            asyncChannel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: server.host, port: server.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try PinnedTLS.clientHandler(context: tls, pinned: pinned) { presented in
                            seen.withLock { $0 = presented }
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw .cannotConnect(server: server.description, reason: "\(error)")
        }

        let (outbox, outboxContinuation) = AsyncStream.makeStream(of: ClientRequest.self)
        let (login, loginContinuation) = AsyncStream.makeStream(of: Result<Signaling.Authenticated, ServerConnectionError>.self)
        func failure(_ error: any Error) -> ServerConnectionError {
            if let presented = seen.withLock({ $0 }), let pinned, presented != pinned {
                return .certificateChanged(server: server.description, expected: pinned, actual: presented)
            }
            return error as? ServerConnectionError ?? .tlsFailed(server: server.description, reason: "\(error)")
        }
        Task {
            var loggedIn = false
            var reason = "the server closed the connection"
            do {
                try await asyncChannel.executeThenClose { inbound, outbound in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await request in outbox {
                                try await outbound.write(ByteBuffer(bytes: FrameDecoder.frame(SignalingCodec.encode(request))))
                            }
                        }
                        var decoder = FrameDecoder()
                        var nonce: [UInt8]?
                        var early: [ServerFrame] = []
                        for try await buffer in inbound {
                            decoder.append(buffer.readableBytesView)
                            while let body = try decoder.nextFrame() {
                                let frame: ServerFrame
                                do { frame = try SignalingCodec.decodeServerFrame(body) } catch {
                                    // A newer server may send messages this client does not know yet;
                                    // a reply we cannot read fails its request now, not at the timeout.
                                    if loggedIn, let unreadable = error as? SignalingDecodingError, let id = unreadable.id {
                                        await onFrame(
                                            ServerFrame(
                                                id: id,
                                                message: .error(
                                                    .init(
                                                        code: unreadable.code,
                                                        message: "the server's reply could not be read: \(unreadable)"))))
                                    }
                                    if loggedIn { continue }
                                    throw ServerConnectionError.invalidResponse("\(error)")
                                }
                                if loggedIn {
                                    await onFrame(frame)
                                    continue
                                }
                                switch (nonce, frame.message) {
                                case let (nil, .challenge(challenge)):
                                    nonce = challenge.nonce.bytes
                                    // The handshake is done once a frame arrives, so `seen` is set.
                                    guard let certificate = seen.withLock({ $0 }) else {
                                        throw ServerConnectionError.invalidResponse("no certificate seen")
                                    }
                                    let message = AuthenticationTranscript.message(nonce: challenge.nonce.bytes, certificate: certificate)
                                    outboxContinuation.yield(
                                        ClientRequest(
                                            id: 0,
                                            message: .authenticate(
                                                .init(
                                                    identityKey: Base64Bytes(identity.publicKey.rawRepresentation),
                                                    signature: Base64Bytes(identity.signature(for: message))))))
                                case let (_?, .authenticated(result)):
                                    loggedIn = true
                                    loginContinuation.yield(.success(result))
                                    // Events that overtook the reply (another device's presence,
                                    // sent once the server knew this key) are delivered now, in order.
                                    for event in early { await onFrame(event) }
                                    early = []
                                case let (_, .error(error)):
                                    throw ServerConnectionError.authenticationRefused("\(error.code): \(error.message)")
                                case (_?, _) where frame.id == nil && early.count < 64:
                                    early.append(frame)
                                default:
                                    throw ServerConnectionError.invalidResponse("\"\(frame.message.type)\" during login")
                                }
                            }
                        }
                        group.cancelAll()
                    }
                }
            } catch {
                reason = "\(failure(error))"
                if !loggedIn { loginContinuation.yield(.failure(failure(error))) }
            }
            outboxContinuation.finish()
            if loggedIn {
                await onClose(reason)
            } else {
                loginContinuation.yield(.failure(.cannotConnect(server: server.description, reason: reason)))
            }
            loginContinuation.finish()
        }

        var iterator = login.makeAsyncIterator()
        switch await iterator.next() {
        case let .success(login)?:
            return SignalingChannel(
                fingerprint: seen.withLock { $0 }!, login: login, outbox: outboxContinuation, channel: asyncChannel.channel)
        case let .failure(error)?:
            throw error
        case nil:
            throw .cannotConnect(server: server.description, reason: "the connection closed during login")
        }
    }
}
