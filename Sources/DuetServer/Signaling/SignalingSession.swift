import DuetCrypto
import DuetWire

/// One connection's protocol state, as a plain value the connection drives (no I/O): what a
/// message is allowed to do in the current state, and when misbehaviour ends the connection.
struct SignalingSession {
    /// Protocol violations tolerated before the connection is closed.
    static let maximumViolations = 5

    enum State {
        /// Only `authenticate` answering this challenge is accepted.
        case awaitingAuthentication(nonce: [UInt8])
        case authenticated(IdentityPublicKey)
    }

    enum Admission {
        case authenticate(Signaling.Authenticate, nonce: [UInt8])
        case request(SignalingRequest, key: IdentityPublicKey)
        /// A protocol violation: reply with this error and count it.
        case violation(Signaling.ErrorReply)
    }

    private(set) var state: State
    private(set) var violations = 0

    init(nonce: [UInt8]) {
        state = .awaitingAuthentication(nonce: nonce)
    }

    func admit(_ message: ClientMessage) -> Admission {
        switch (state, SignalingRequest.route(message)) {
        case let (.awaitingAuthentication(nonce), .authenticate(auth)):
            return .authenticate(auth, nonce: nonce)
        case (.awaitingAuthentication, .request):
            return .violation(
                .init(
                    code: .notAuthenticated,
                    message: "\"\(message.type)\" before authentication; answer the challenge with \"authenticate\" first"))
        case (.authenticated, .authenticate):
            return .violation(.init(code: .unexpectedMessage, message: "already authenticated on this connection"))
        case let (.authenticated(key), .request(request)):
            return .request(request, key: key)
        }
    }

    mutating func didAuthenticate(as key: IdentityPublicKey) {
        state = .authenticated(key)
    }

    /// Counts a violation; true when the connection should now be closed.
    mutating func recordViolation() -> Bool {
        violations += 1
        return violations >= Self.maximumViolations
    }
}
