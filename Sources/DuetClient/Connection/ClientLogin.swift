import DuetCrypto
import DuetWire

/// The client's side of the login, as a plain value the connection drives (no I/O): the
/// mirror of the server's `SignalingSession` (Sources/DuetServer/Signaling/SignalingSession.swift).
/// The server speaks first with a challenge; the device answers it with a signature; the
/// server's `authenticated` ends the login. Each frame read is an event, and the answer is the
/// action the connection takes; after the login every frame is delivered.
struct ClientLogin {
    /// Events that overtake the login's reply and are kept for after it, at most.
    static let maximumEarlyEvents = 64

    enum Phase: Equatable {
        /// Connected; the server's challenge has not come yet.
        case awaitingChallenge
        /// The signed challenge is on its way. Events the server sent once it knew this key
        /// (another device's presence) may overtake the reply: they wait here, in order.
        case proving(nonce: [UInt8], early: [ServerFrame])
        /// Logged in, as the server's reply says (with the bound number, if registered).
        case authenticated(Signaling.Authenticated)
        case failed(ServerConnectionError)
    }

    enum Action: Equatable {
        /// Answer the challenge: sign `nonce` with the server's certificate (`authenticateRequest`).
        case prove(nonce: [UInt8])
        /// The login is done; deliver `early`, in order, before any later frame.
        case loggedIn(Signaling.Authenticated, early: [ServerFrame])
        case deliver(ServerFrame)
        /// The login failed: close the connection and report this.
        case fail(ServerConnectionError)
        /// Nothing to do (an event kept for later, or an unreadable frame no request waits for).
        case none
    }

    private(set) var phase: Phase = .awaitingChallenge

    var isLoggedIn: Bool {
        if case .authenticated = phase { return true }
        return false
    }

    mutating func received(_ frame: ServerFrame) -> Action {
        switch (phase, frame.message) {
        case (.authenticated, _):
            return .deliver(frame)
        case (.failed, _):
            return .none
        case let (.awaitingChallenge, .challenge(challenge)):
            guard challenge.nonce.bytes.count == AuthenticationTranscript.nonceByteCount else {
                return fail(
                    .invalidResponse(
                        "a challenge of \(challenge.nonce.bytes.count) bytes; the server sends \(AuthenticationTranscript.nonceByteCount)"))
            }
            phase = .proving(nonce: challenge.nonce.bytes, early: [])
            return .prove(nonce: challenge.nonce.bytes)
        case let (.proving(_, early), .authenticated(result)):
            phase = .authenticated(result)
            return .loggedIn(result, early: early)
        case let (_, .error(error)):
            return fail(.authenticationRefused("\(error.code): \(error.message)"))
        case (.proving(let nonce, var early), _) where frame.id == nil && !frame.message.isLoginStep:
            guard early.count < Self.maximumEarlyEvents else { return fail(Self.outOfOrder(frame)) }
            early.append(frame)
            phase = .proving(nonce: nonce, early: early)
            return .none
        default:
            return fail(Self.outOfOrder(frame))
        }
    }

    /// A frame whose JSON could not be read. A newer server may send messages this client does
    /// not know yet: after the login, a reply we cannot read fails its request now, not at the
    /// timeout, and an event is skipped; during the login nothing unreadable can be right.
    mutating func unreadable(_ error: SignalingDecodingError) -> Action {
        switch phase {
        case .authenticated:
            guard let id = error.id else { return .none }
            let reply = Signaling.ErrorReply(code: error.code, message: "the server's reply could not be read: \(error)")
            return .deliver(ServerFrame(id: id, message: .error(reply)))
        case .failed:
            return .none
        case .awaitingChallenge, .proving:
            return fail(.invalidResponse("\(error)"))
        }
    }

    /// The `authenticate` request answering `nonce`: the identity key and its signature over the
    /// nonce bound to the certificate this connection saw (Sources/DuetWire/Signaling/AuthenticationTranscript.swift).
    static func authenticateRequest(identity: IdentityKeyPair, nonce: [UInt8], certificate: CertificateFingerprint) -> ClientRequest {
        let message = AuthenticationTranscript.message(nonce: nonce, certificate: certificate)
        return ClientRequest(
            id: 0,
            message: .authenticate(
                .init(
                    identityKey: Base64Bytes(identity.publicKey.rawRepresentation), signature: Base64Bytes(identity.signature(for: message))
                )
            ))
    }

    private mutating func fail(_ error: ServerConnectionError) -> Action {
        phase = .failed(error)
        return .fail(error)
    }

    private static func outOfOrder(_ frame: ServerFrame) -> ServerConnectionError {
        .invalidResponse("\"\(frame.message.type)\" during login")
    }
}

extension ServerMessage {
    /// Messages that only make sense as a step of the login, never as an event beside it.
    fileprivate var isLoginStep: Bool {
        switch self {
        case .challenge, .authenticated: true
        default: false
        }
    }
}
