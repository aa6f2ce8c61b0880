import DuetCrypto

/// Where a 1:1 call's keys stand, each phase holding only the secrets it still needs: the X3DH
/// secret and the caller's ephemeral key pair leave the call (released, zeroed) the moment the
/// answer is sealed or opened, not at hang-up, and the SAS commitment once it is opened. The
/// engine moves it forward; `CallStateMachine` decides when (docs/ARCHITECTURE.md "The call layer").
enum CallKeyExchange {
    /// Caller, ringing: the offer went out (or is about to) and the answer is awaited.
    case offered(Offered)
    /// Callee, ringing: the keys are made from the offer; the answer is not sent yet.
    case answering(Answering)
    /// Both devices hold the keys: the answer is in (caller) or out (callee).
    case keyed(Keyed)
    /// The call is over: every key released.
    case wiped

    struct Offered {
        /// The sealed invitation, until the server has taken it.
        var invitation: CallInvitation?
        /// The X3DH secret the answer is sealed under, and the ephemeral key pair its keys need.
        let callSecret: SecureBytes
        let ephemeral: X25519KeyPair
        /// The SAS value the offer committed to, revealed in the caller's `confirm`.
        let sasReveal: SASCommitment
    }

    struct Answering {
        /// The X3DH secret the answer is sealed under.
        let callSecret: SecureBytes
        let keys: CallKeys
        /// The ephemeral public key the answer carries (its private half is already gone).
        let ephemeralKey: [UInt8]
        /// The offer's SAS commitment, opened by the caller's `confirm`.
        let peerSASCommitment: [UInt8]
    }

    struct Keyed {
        let keys: CallKeys
        /// Callee: the offer's SAS commitment until the caller's `confirm` opens it (then nil).
        var peerSASCommitment: [UInt8]?
    }

    /// The call's keys, once made (the callee has them before its answer is out).
    var keys: CallKeys? {
        switch self {
        case let .answering(answering): answering.keys
        case let .keyed(keyed): keyed.keys
        case .offered, .wiped: nil
        }
    }

    /// The other device holds the keys too, so signals sealed under them can go out.
    var peerHasKeys: Bool {
        if case .keyed = self { true } else { false }
    }

    /// The X3DH secret and ephemeral key pair still held (a test shows them gone once keyed).
    var handshakeSecrets: [any AnyObject & Sendable] {
        switch self {
        case let .offered(offered): [offered.callSecret, offered.ephemeral.privateKey]
        case let .answering(answering): [answering.callSecret]
        case .keyed, .wiped: []
        }
    }
}
