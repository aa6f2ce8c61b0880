import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// Everything one call holds. Its secrets are in `keyExchange` (by phase) and in the pump's
/// SRTP sessions; the engine's wipe moves the exchange to `.wiped` and stops the pump, which
/// releases and zeroes them.
struct ActiveCall {
    let callID: String
    let peer: String
    /// The peer's identity key as its bundle gave it (caller), for a missed-call notice.
    var peerKey: IdentityPublicKey?
    let isCaller: Bool
    let transport: CallTransport
    var machine = CallStateMachine()
    var keyExchange: CallKeyExchange
    let associatedData: [UInt8]
    let localNonce: [UInt8]
    var remoteSSRC: UInt32 = 0
    /// The peer said (sealed) it takes video; no video flows either way otherwise.
    var peerTakesVideo = false
    var remoteCandidates: [Candidate] = []
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
    /// A mapping gathering did not wait for, on its way to the peer (`CallEngine+Trickle`).
    var trickle = Trickle()
    /// This device's addresses and the restarts they cause (`MediaRestart`).
    var network = NetworkWatch()
    /// What was last said about the video (`CallEngine+Video`).
    var videoShown = VideoShown()
    let startedAt = ContinuousClock.now

    /// The call's keys, once made.
    var keys: CallKeys? { keyExchange.keys }

    /// Seconds since the call object was made (the relay client's clock).
    var elapsed: Double { (ContinuousClock.now - startedAt).inSeconds }

    /// A server-reflexive mapping learned after the offer or answer left (docs/networking.md
    /// "Candidates and checks").
    struct Trickle {
        /// The STUN Binding gathering did not wait for, asked again until answered.
        var lateMapping: LateMapping?
        /// The mapping it brought, once learned; sent to the peer once it can open it (unless
        /// it is one of the host candidates already sent, as on one machine).
        var lateReflexive: TransportAddress?
        var sent = false
    }

    /// The video as last reported: pictures handed to a screen (by count, so one is handed on
    /// once), the peer's camera, and whether a failed save was told.
    struct VideoShown {
        var peerPictures = 0
        var ownPictures = 0
        var peerCameraOff = false
        var recordingProblemShown = false
    }

    /// Network change: this device's interface addresses when last looked at, when that was,
    /// when media was last heard, and the restart in progress (see `MediaRestart`).
    struct NetworkWatch {
        var hostAddresses: [[UInt8]] = []
        var addressesCheckedAt = ContinuousClock.now
        var lastMediaAt: ContinuousClock.Instant?
        var restart: RestartProgress?
        var lastRestartAt: ContinuousClock.Instant?
        /// The generation this device's last restart message carried, and the peer's.
        var restartGeneration = 0
        var peerRestartGeneration = 0
    }
}
