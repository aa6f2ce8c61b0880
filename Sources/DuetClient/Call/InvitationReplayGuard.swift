import Foundation

/// Refuses a call invitation the server sends again (docs/SECURITY.md, "The signaling server"):
/// an offer without a one-time prekey opens as often as it is delivered, and would ring as
/// whoever sent it first — a verified contact, say. So each call id rings once per engine, and
/// an offer made more than `maximumAge` ago (the caller's clock, inside the sealed offer, so the
/// server cannot change it) does not ring at all, also after the device restarted.
struct InvitationReplayGuard: Sendable {
    /// How old an offer may be; devices' clocks must agree to within this.
    static let maximumAge: TimeInterval = 300
    /// Call ids remembered (oldest forgotten first); enough for `maximumAge` of ringing.
    static let remembered = 1024

    private var seen: [String] = []
    private var seenSet: Set<String> = []

    /// Admits the invitation for `callID` whose offer was made at `sentAt`, or says why not.
    mutating func admit(callID: String, sentAt: TimeInterval, now: Date = Date()) throws(CallHandshakeError) {
        guard !seenSet.contains(callID) else { throw .replayedInvitation }
        let age = now.timeIntervalSince1970 - sentAt
        guard abs(age) <= Self.maximumAge else { throw .staleInvitation(seconds: Int(age)) }
        seen.append(callID)
        seenSet.insert(callID)
        if seen.count > Self.remembered { seenSet.remove(seen.removeFirst()) }
    }
}
