import DuetMedia
import Synchronization

/// The media legs devices announced over signaling: which DTLS certificate fingerprint
/// belongs to which participant of which group call (docs/group-calls.md).
///
/// The media port cannot tell from a UDP address who is knocking; the only thing a DTLS
/// handshake proves is that the peer holds the private key of the certificate it showed. So a
/// device announces that certificate's fingerprint when it starts or joins a call (over
/// authenticated signaling), and a handshake is admitted to a room only if its certificate's
/// fingerprint was announced, as the number that announced it.
///
/// Shared between the signaling connections (async tasks and actors) and the media loop (one
/// task): `state` is guarded by its `Mutex`, held only for a dictionary lookup or update, never
/// across an `await`. The media loop learns of withdrawals by `generation`: it re-checks its
/// connected legs whenever the number moved, before it forwards anything.
final class AnnouncedLegs: Sendable {
    /// Whose a fingerprint is: a participant of a call.
    struct Leg: Hashable, Sendable {
        let room: SFURoomID
        let number: String
        /// The one SSRC the leg may send, when signaling announced it (a meeting's participants
        /// are told whose stream is whose by SSRC, so nobody may send under another's).
        var ssrc: UInt32? = nil
    }

    private struct State {
        var legs: [DTLSFingerprint: Leg] = [:]
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Records that `fingerprint` is `leg`'s. A fingerprint already announced by another
    /// number is refused: otherwise a member could claim someone else's (public) fingerprint
    /// and pull that device's handshake into a call of its own choosing. The same number may
    /// move its fingerprint to another call (it joined a new one).
    func announce(_ fingerprint: DTLSFingerprint, for leg: Leg) throws(DirectoryError) {
        let taken = state.withLock { state -> Bool in
            if let existing = state.legs[fingerprint], existing.number != leg.number { return true }
            if state.legs[fingerprint] != leg {
                state.legs[fingerprint] = leg
                state.generation &+= 1
            }
            return false
        }
        if taken { throw Self.taken }
    }

    /// Throws what `announce` would if `fingerprint` is another number's; changes nothing.
    func checkFree(_ fingerprint: DTLSFingerprint, for number: String) throws(DirectoryError) {
        if let owner = leg(for: fingerprint), owner.number != number { throw Self.taken }
    }

    private static let taken = DirectoryError.notPermitted("that DTLS certificate fingerprint is another device's; make a new certificate")

    /// Forgets every fingerprint `number` announced for `room` (it left, vanished or was
    /// removed from the group); the media loop drops the legs at its next datagram or tick.
    func withdraw(room: SFURoomID, number: String) {
        state.withLock { state in
            let before = state.legs.count
            state.legs = state.legs.filter { $0.value.room != room || $0.value.number != number }
            if state.legs.count != before { state.generation &+= 1 }
        }
    }

    func leg(for fingerprint: DTLSFingerprint) -> Leg? {
        state.withLock { $0.legs[fingerprint] }
    }

    /// Moves on every change, so the media loop can tell cheaply whether to re-check.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Legs announced now (a node's load, docs/deployment.md).
    var count: Int { state.withLock { $0.legs.count } }
}
