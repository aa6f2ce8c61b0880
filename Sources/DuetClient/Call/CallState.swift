/// How media travels once a call is up.
public enum MediaPath: Equatable, Sendable {
    /// Straight between the two devices (a STUN check succeeded).
    case p2p
    /// Through a TURN relay, reached over UDP, TCP or TLS; still end-to-end encrypted.
    case relay(RelayTransport)
    /// Through the group-call router.
    case sfu

    /// The path without the relay's transport: `p2p`, `relay`, `sfu` (timing names, scripts).
    public var kind: String {
        switch self {
        case .p2p: "p2p"
        case .relay: "relay"
        case .sfu: "sfu"
        }
    }

    /// As the CLI, the call pane and `--json` name it: `p2p`, `relay (udp)`, `relay (tcp)`,
    /// `relay (tls)`, `sfu`.
    public var label: String {
        switch self {
        case .p2p: "p2p"
        case let .relay(transport): "relay (\(transport.rawValue))"
        case .sfu: "sfu"
        }
    }
}

/// Why a call ended, in words a user reads on the call screen.
public enum CallEndReason: Equatable, Sendable, CustomStringConvertible {
    case hungUp
    case hungUpByPeer
    case declined
    case busy
    /// Nobody answered within the ring timeout.
    case noAnswer
    /// The caller gave up before the callee answered.
    case cancelled
    case failed(String)

    public var description: String {
        switch self {
        case .hungUp: "hung up"
        case .hungUpByPeer: "the other side hung up"
        case .declined: "declined"
        case .busy: "busy"
        case .noAnswer: "no answer"
        case .cancelled: "cancelled"
        case let .failed(reason): "failed: \(reason)"
        }
    }

    /// True for the endings a headless `duet call` counts as a completed call.
    public var isCompletedCall: Bool { self == .hungUp || self == .hungUpByPeer }
}

/// The states of a 1:1 call: idle → outgoing / incoming → connecting →
/// connected(path) → ended(reason).
public enum CallState: Equatable, Sendable, CustomStringConvertible {
    case idle
    /// We rang the peer and wait for an answer.
    case outgoing
    /// The peer rings us.
    case incoming
    /// Answered: confirming keys and finding a media path.
    case connecting
    case connected(MediaPath)
    case ended(CallEndReason)

    public var description: String {
        switch self {
        case .idle: "idle"
        case .outgoing: "ringing"
        case .incoming: "incoming"
        case .connecting: "connecting"
        case let .connected(path): "connected (\(path.label))"
        case let .ended(reason): "ended: \(reason)"
        }
    }

    public var isActive: Bool {
        switch self {
        case .idle, .ended: false
        default: true
        }
    }
}
