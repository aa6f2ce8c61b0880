import DuetCrypto
import DuetWire
import Foundation

/// Everything one call holds. The secrets (`callSecret`, `keys`, the SRTP sessions inside
/// `media`) are set to nil by the engine's wipe, which releases and zeroes them.
struct ActiveCall {
    let callID: String
    let peer: String
    let isCaller: Bool
    let transport: CallTransport
    var machine = CallStateMachine()
    var callSecret: SecureBytes?
    let associatedData: [UInt8]
    let localNonce: [UInt8]
    /// The caller's X3DH ephemeral key pair, from the invitation until the answer's keys are
    /// made (then nil: released and zeroed).
    var ephemeral: X25519KeyPair?
    /// The callee's ephemeral public key, sent in the answer (its private half is already gone).
    var localEphemeralKey: [UInt8] = []
    var remoteSSRC: UInt32 = 0
    var keys: CallKeys?
    var remoteCandidates: [Candidate] = []
    var pendingInvitation: CallInvitation?
    var checks: ConnectivityChecks?
    /// Direct path: the peer address connectivity checks selected.
    var directPeer: TransportAddress?
    /// Relay path, once direct checks gave up (or `--relay`).
    var relay: RelayPath?
    /// The call's clock, inbox, SRTP and send and receive chains.
    let pump: MediaPump
    /// The other device's relayed address, as it told us (sealed).
    var peerRelayedAddress: TransportAddress?
    var path: MediaPath?
    var lastReport: ContinuousClock.Instant?
    var timers: [CallStateMachine.Timer: ContinuousClock.Instant] = [:]
    /// Network change: this device's interface addresses when last looked at, when that was,
    /// when media was last heard, and the restart in progress (see `MediaRestart`).
    var hostAddresses: [[UInt8]] = []
    var addressesCheckedAt = ContinuousClock.now
    var lastMediaAt: ContinuousClock.Instant?
    var restart: RestartProgress?
    /// A STUN Binding gathering did not wait for, asked again until answered (`CallEngine+Trickle`).
    var lateMapping: LateMapping?
    /// The mapping it brought, once learned; sent to the peer once it can open it (unless it is
    /// one of the host candidates already sent, as on one machine).
    var lateReflexive: TransportAddress?
    var trickleSent = false
    /// The SAS's committed value (`SASCommitment`): the caller's own, revealed in its `confirm`;
    /// the callee's copy of the offer's commitment, until a `confirm` opens it (then nil).
    var sasReveal: SASCommitment?
    var peerSASCommitment: [UInt8]?
    /// The offer's answer is out (callee) or in (caller): the peer holds the call's keys.
    var peerHasKeys = false
    var lastRestartAt: ContinuousClock.Instant?
    var restartGeneration = 0
    var peerRestartGeneration = 0
    let startedAt = ContinuousClock.now

    /// Seconds since the call object was made (the relay client's clock).
    var elapsed: Double {
        let d = ContinuousClock.now - startedAt
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
