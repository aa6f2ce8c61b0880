import DuetCrypto
import DuetWire
import Foundation

/// Issues and checks the relay's TURN credentials without storing any (the "TURN REST API"
/// scheme coturn also speaks): the username is "<unix expiry>:<call id>:<number or meeting guest id>" and the
/// password is base64(HMAC-SHA256(relay secret, username)). The relay recomputes the password
/// from the username alone, so a credential is bound to its call and number, cannot be
/// stretched past its expiry, and survives a restart; nothing is kept per call.
struct RelayCredentialIssuer: Sendable {
    static let realm = "duet"
    /// No allocation outlives its credential (`RelayCore`) and devices do not renew
    /// credentials during a call, so this is how long a relayed call or leg can last; it is
    /// also how long a leaked credential (bound to one call and one number) stays usable.
    static let lifetime: TimeInterval = 4 * 3600

    let secret: RelaySecret

    /// Credentials for `callID`, for the device registered as `number`, from `now` (unix
    /// time), naming `relay` — the media port as that device should address it.
    func issue(callID: String, number: String, relay: HostPort, now: TimeInterval) -> Signaling.RelayCredentials {
        let expiry = Int64(now + Self.lifetime)
        let username = "\(expiry):\(callID):\(number)"
        return .init(
            username: username, password: password(for: username), realm: Self.realm,
            ttlSeconds: Int(Self.lifetime), relay: relay.description)
    }

    /// The password for `username` if it is one of ours and has not expired at `now`;
    /// nil otherwise (RelayCore then answers 401). A forged username gets a password too,
    /// but not one its sender can know without the secret.
    func password(for username: String, now: TimeInterval) -> String? {
        let parts = username.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int64(parts[0]), TimeInterval(expiry) > now,
            Signaling.isValidToken(String(parts[1])), PhoneNumber.isValid(String(parts[2])) || MeetingSignaling.isGuestID(parts[2])
        else { return nil }
        return password(for: username)
    }

    private func password(for username: String) -> String {
        Data(MessageAuthentication.code(.sha256, key: secret.key, message: Array(username.utf8))).base64EncodedString()
    }

    /// What RelayCore checks requests with: these passwords and TURN's HMAC-SHA1 integrity.
    var coreCredentials: RelayCore.Credentials {
        let issuer = self
        return RelayCore.Credentials(
            realm: Self.realm, password: { username, now in issuer.password(for: username, now: now) },
            integrity: { username, realm, password in .relayLongTermCredential(username: username, realm: realm, password: password) },
            holder: Self.holder(of:), expiry: Self.expiry(of:))
    }

    /// Who `username` was issued to: its number or meeting guest id (the quota's unit).
    static func holder(of username: String) -> String {
        username.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? username
    }

    /// The unix time `username` expires at, or nil if it is not one of ours.
    static func expiry(of username: String) -> Double? {
        username.split(separator: ":", maxSplits: 1).first.flatMap { Int64($0) }.map(Double.init)
    }
}

extension STUNIntegrity {
    /// MESSAGE-INTEGRITY (HMAC-SHA1) under a TURN long-term credential. (DuetClient has the
    /// public twin, `longTermCredential`; the server does not depend on the client.)
    static func relayLongTermCredential(username: String, realm: String, password: String) -> STUNIntegrity {
        let credential = TURNCredential(username: username, realm: realm, password: password)
        return STUNIntegrity(kind: .sha1) { credential.messageIntegrity(over: $0) }
    }
}
