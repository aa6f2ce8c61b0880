import DuetWire

/// Why SRTP refused a packet or a session. The libsrtp2 status codes that a caller must
/// tell apart (a forgery, a replay, a bad packet) are their own cases; the rest keep the
/// numeric code so a report can be matched to `srtp_err_status_t` in srtp.h.
public enum SRTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The tag did not verify (libsrtp 7): tampered, corrupted, or keyed differently.
    case authenticationFailed
    /// The packet index was seen already (libsrtp 9) or fell behind the replay window
    /// (libsrtp 10). On the sender, 9 means a sequence number was protected twice.
    case replay(tooOld: Bool)
    /// Too few bytes for a header plus what the profile needs.
    case tooShort(length: Int, minimum: Int)
    /// The RTP header is not one SRTP can work on (checked before libsrtp sees it).
    case malformedHeader(RTPParseError)
    /// The key ‖ salt string has the wrong length for the profile.
    case invalidKeyLength(profile: SRTPProfile, expected: Int, actual: Int)
    /// Replay windows must be 64 ..< 32768 packets (libsrtp's limits).
    case invalidReplayWindow(Int)
    /// A sender session was asked to unprotect, or a receiver to protect.
    case wrongDirection(SRTPSession.Role, operation: String)
    /// Any other libsrtp2 status, with its `srtp_err_status_t` value.
    case library(operation: String, code: Int32)

    public var description: String {
        switch self {
        case .authenticationFailed:
            "SRTP authentication failed: the packet was altered or the peers hold different keys"
        case let .replay(tooOld):
            tooOld
                ? "SRTP packet is older than the replay window; dropped"
                : "SRTP packet index was already used (replay, or a sender reusing a sequence number)"
        case let .tooShort(length, minimum):
            "SRTP packet of \(length) bytes is shorter than the \(minimum) bytes its header and tag need"
        case let .malformedHeader(error):
            "SRTP packet has a malformed RTP header: \(error)"
        case let .invalidKeyLength(profile, expected, actual):
            "\(profile) needs \(expected) bytes of master key ‖ salt, got \(actual)"
        case let .invalidReplayWindow(size):
            "SRTP replay window of \(size) packets is outside libsrtp's 64 ..< 32768"
        case let .wrongDirection(role, operation):
            "\(operation) called on a \(role) session; use one session per direction"
        case let .library(operation, code):
            "\(operation) failed with libsrtp2 status \(code) (srtp_err_status_t in srtp2/srtp.h)"
        }
    }
}
