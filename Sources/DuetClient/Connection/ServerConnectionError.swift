import DuetWire

/// Why talking to the server failed. Messages say what happened and what to do next.
public enum ServerConnectionError: Error, Equatable, CustomStringConvertible {
    /// The pinned fingerprint given to the connection is not a SHA-256 fingerprint.
    case invalidPinnedFingerprint(String)
    /// The server showed a certificate other than the pinned one (as ssh's known_hosts warns).
    case certificateChanged(server: String, expected: CertificateFingerprint, actual: CertificateFingerprint)
    case cannotConnect(server: String, reason: String)
    case tlsFailed(server: String, reason: String)
    /// The server did not accept this device's signed challenge.
    case authenticationRefused(String)
    /// The server answered a request with an `error`.
    case server(code: SignalingErrorCode, message: String)
    /// The server sent something this client cannot use (a bad key, an unexpected reply).
    case invalidResponse(String)
    case notConnected
    /// The connection dropped while a request was waiting for its reply.
    case disconnected
    case timedOut(request: String)
    /// `close()` was called.
    case closed

    public var description: String {
        switch self {
        case let .invalidPinnedFingerprint(text):
            "the pinned server fingerprint '\(text)' is not a SHA-256 fingerprint (32 hex bytes such as AB:CD:…)"
        case let .certificateChanged(server, expected, actual):
            """
            the server at \(server) presented a different certificate than the one pinned for it.
              pinned:    \(expected)
              presented: \(actual)
            Either the server made a new certificate (for example its data directory was lost or replaced) \
            or someone is intercepting the connection. Nothing was sent. Ask the server's operator for the \
            fingerprint `duet server` prints at start; only if it matches the presented one, accept it \
            deliberately by pinning the new fingerprint (duet: add --accept-certificate \(actual) to the command).
            """
        case let .cannotConnect(server, reason):
            "cannot reach the server at \(server): \(reason); check the address and that `duet server` is running"
        case let .tlsFailed(server, reason):
            "TLS with \(server) failed: \(reason); is this a duet server's signaling port?"
        case let .authenticationRefused(message):
            "the server refused this device's login: \(message)"
        case let .server(code, message):
            "the server refused the request (\(code)): \(message)"
        case let .invalidResponse(message):
            "the server sent an unusable reply: \(message)"
        case .notConnected:
            "not connected to the server; connect first"
        case .disconnected:
            "the connection to the server dropped before the reply arrived; try again once reconnected"
        case let .timedOut(request):
            "the server did not answer \"\(request)\" in time"
        case .closed:
            "the connection was closed"
        }
    }

    /// Whether trying again later could help; a changed certificate or a refused login will
    /// not fix itself, so reconnecting stops there.
    public var isRetryable: Bool {
        switch self {
        case .cannotConnect, .tlsFailed, .disconnected, .timedOut, .notConnected: true
        default: false
        }
    }
}
