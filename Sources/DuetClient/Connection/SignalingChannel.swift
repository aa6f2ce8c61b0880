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
    /// The server's other nodes this device may reconnect to, as of login (none if it said none).
    let nodes: [HostPort]
    private let outbox: AsyncStream<ClientRequest>.Continuation
    private let channel: any Channel

    private init(
        fingerprint: CertificateFingerprint, login: Signaling.Authenticated, outbox: AsyncStream<ClientRequest>.Continuation,
        channel: any Channel
    ) {
        self.fingerprint = fingerprint
        self.number = login.number
        self.media = login.media.flatMap { try? HostPort(parsing: $0) }
        self.nodes = (login.nodes ?? []).prefix(Self.maximumNodes).compactMap { try? HostPort(parsing: $0) }
        self.outbox = outbox
        self.channel = channel
    }

    /// How many of the nodes a server names are kept: a server cannot make a device try more.
    static let maximumNodes = 8

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
        let presented = PresentedCertificate()
        let connection = try await connect(server: server, pinned: pinned, presented: presented)
        let (requests, outbox) = AsyncStream.makeStream(of: ClientRequest.self)
        let (login, loginResult) = AsyncStream.makeStream(of: LoginResult.self)
        let driver = Driver(
            server: server, identity: identity, pinned: pinned, presented: presented, outbox: outbox, loginResult: loginResult,
            onFrame: onFrame)
        Task { await driver.run(connection, requests: requests, onClose: onClose) }

        var iterator = login.makeAsyncIterator()
        switch await iterator.next() {
        case let .success(login)?:
            // Logged in after proving the challenge, which needed the certificate: it was seen.
            guard let fingerprint = presented.value.withLock({ $0 }) else { throw .invalidResponse("no certificate seen") }
            return SignalingChannel(fingerprint: fingerprint, login: login, outbox: outbox, channel: connection.channel)
        case let .failure(error)?:
            throw error
        case nil:
            throw .cannotConnect(server: server.description, reason: "the connection closed during login")
        }
    }

    /// The connection as the pipeline's signaling handlers hand it over: the server's frames in
    /// (or why one could not be read), requests out.
    typealias Connection = NIOAsyncChannel<Result<ServerFrame, SignalingDecodingError>, ClientRequest>
    private typealias LoginResult = Result<Signaling.Authenticated, ServerConnectionError>

    /// TCP, then TLS checked against `pinned`, then the signaling frame handlers.
    private static func connect(
        server: HostPort, pinned: CertificateFingerprint?, presented: PresentedCertificate
    ) async throws(ServerConnectionError) -> Connection {
        let tls: NIOSSLContext
        do { tls = try PinnedTLS.clientContext() } catch {
            throw .tlsFailed(server: server.description, reason: "\(error)")
        }
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: server.host, port: server.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try PinnedTLS.clientHandler(context: tls, pinned: pinned) { seen in
                            presented.value.withLock { $0 = seen }
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addSignalingHandlers(receiving: ServerFrame.self, sending: ClientRequest.self)
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw .cannotConnect(server: server.description, reason: "\(error)")
        }
    }

    /// One connection's life after the TCP connect: requests written, frames read through the
    /// `ClientLogin` state machine, and its end reported (to the login's waiter, or to `onClose`).
    private struct Driver: Sendable {
        let server: HostPort
        let identity: IdentityKeyPair
        let pinned: CertificateFingerprint?
        let presented: PresentedCertificate
        let outbox: AsyncStream<ClientRequest>.Continuation
        let loginResult: AsyncStream<LoginResult>.Continuation
        let onFrame: @Sendable (ServerFrame) async -> Void

        func run(_ connection: Connection, requests: AsyncStream<ClientRequest>, onClose: @Sendable (String) async -> Void) async {
            var login = ClientLogin()
            var ending: ServerConnectionError?
            do {
                try await connection.executeThenClose { inbound, outbound in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await request in requests { try await outbound.write(request) }
                        }
                        try await read(inbound, login: &login)
                        group.cancelAll()
                    }
                }
            } catch {
                ending = failure(error)
            }
            outbox.finish()
            if login.isLoggedIn {
                await onClose(ending.map { "\($0)" } ?? Self.closedByServer)
            } else {
                loginResult.yield(.failure(ending ?? .cannotConnect(server: server.description, reason: Self.closedByServer)))
            }
            loginResult.finish()
        }

        private static let closedByServer = "the server closed the connection"

        private func read(_ inbound: NIOAsyncChannelInboundStream<Result<ServerFrame, SignalingDecodingError>>, login: inout ClientLogin)
            async throws
        {
            for try await decoded in inbound {
                let action =
                    switch decoded {
                    case let .success(frame): login.received(frame)
                    case let .failure(error): login.unreadable(error)
                    }
                try await perform(action)
            }
        }

        private func perform(_ action: ClientLogin.Action) async throws(ServerConnectionError) {
            switch action {
            case .none:
                break
            case let .deliver(frame):
                await onFrame(frame)
            case let .prove(nonce):
                // The handshake is done once a frame arrives, so the certificate has been seen.
                guard let certificate = presented.value.withLock({ $0 }) else { throw .invalidResponse("no certificate seen") }
                outbox.yield(ClientLogin.authenticateRequest(identity: identity, nonce: nonce, certificate: certificate))
            case let .loggedIn(result, early):
                loginResult.yield(.success(result))
                for event in early { await onFrame(event) }
            case let .fail(error):
                throw error
            }
        }

        /// What ended the connection, as the user should hear it: a certificate other than the
        /// pinned one is said as such, whatever error TLS reported for it.
        private func failure(_ error: any Error) -> ServerConnectionError {
            if let presented = presented.value.withLock({ $0 }), let pinned, presented != pinned {
                return .certificateChanged(server: server.description, expected: pinned, actual: presented)
            }
            return error as? ServerConnectionError ?? .tlsFailed(server: server.description, reason: "\(error)")
        }
    }
}

/// The certificate the server presented, as the TLS handshake saw it (before the pin decides).
private final class PresentedCertificate: Sendable {
    let value = Mutex<CertificateFingerprint?>(nil)
}
