/// Why a DTLS-SRTP association could not give keys, or why a datagram was not used.
///
/// Every case says what went wrong in words a user (or the person reading a log) can act on;
/// OpenSSL's own reasons are kept as text, read from its error queue in one place
/// (`OpenSSLErrors`).
public enum DTLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Making the per-process certificate or key failed (OpenSSL's reason).
    case certificateGenerationFailed(String)
    /// Setting up the SSL context or connection failed before any packet (OpenSSL's reason).
    case setupFailed(String)
    /// The DTLS handshake failed: a fatal alert from the peer, a bad message, or a
    /// Finished that did not verify (OpenSSL's reason).
    case handshakeFailed(String)
    /// The peer presented no certificate, so there is nothing to check its fingerprint against.
    case noPeerCertificate
    /// The peer's certificate is not the one signaling announced: a man in the middle, or a
    /// stale fingerprint.
    case fingerprintMismatch(expected: DTLSFingerprint, got: DTLSFingerprint)
    /// The handshake completed but the peer agreed to none of the SRTP profiles offered
    /// (RFC 5764 §4.1.1 allows that; without a profile there are no SRTP keys).
    case noSRTPProfile(offered: [SRTPProfile])
    /// Exporting the keying material failed (OpenSSL's reason).
    case keyExportFailed(String)
    /// No answer from the peer although the last flight was sent `retransmissions` times more.
    case timedOut(retransmissions: Int)
    /// A datagram that cannot be DTLS was dropped before OpenSSL saw it; not fatal.
    case malformedDatagram(length: Int, reason: String)
    /// The association failed after the handshake (a fatal alert, OpenSSL's reason).
    case connectionFailed(String)

    public var description: String {
        switch self {
        case let .certificateGenerationFailed(reason):
            "could not make the DTLS certificate: \(reason)"
        case let .setupFailed(reason):
            "could not set up DTLS: \(reason)"
        case let .handshakeFailed(reason):
            "DTLS handshake failed: \(reason)"
        case .noPeerCertificate:
            "the DTLS peer sent no certificate, so its fingerprint cannot be checked; refusing its keys"
        case let .fingerprintMismatch(expected, got):
            "the DTLS peer's certificate fingerprint \(got) is not the \(expected) announced over signaling: "
                + "someone may be in the middle, or the peer restarted; rejoin to fetch its current fingerprint"
        case let .noSRTPProfile(offered):
            "the DTLS peer agreed to no SRTP profile (offered \(offered.map(\.description).joined(separator: ", "))); "
                + "it must support one of them for media"
        case let .keyExportFailed(reason):
            "could not export DTLS-SRTP keys: \(reason)"
        case let .timedOut(retransmissions):
            "DTLS handshake timed out: no answer after \(retransmissions) retransmissions; check that the peer's media port is reachable over UDP"
        case let .malformedDatagram(length, reason):
            "dropped a \(length)-byte datagram that is not DTLS: \(reason)"
        case let .connectionFailed(reason):
            "DTLS association failed: \(reason)"
        }
    }
}
