import DuetCrypto
import DuetWire
import Foundation

/// TURN credentials for one call on the Duet server's relay, as `relayCredentials(callID:)`
/// returns them. Short-lived (`expiresAt`) and bound to the call and this device's number;
/// ask again for another call. The description never shows the password.
public struct RelayCredentials: Sendable, Equatable, CustomStringConvertible {
    public let username: String
    public let password: String
    public let realm: String
    /// The media port where the relay listens.
    public let relay: HostPort
    /// How long the server said the credentials last, from when they were received.
    public let ttl: Duration
    public let expiresAt: Date

    public init(username: String, password: String, realm: String, relay: HostPort, ttl: Duration, expiresAt: Date) {
        self.username = username
        self.password = password
        self.realm = realm
        self.relay = relay
        self.ttl = ttl
        self.expiresAt = expiresAt
    }

    /// A TURN client for these credentials, speaking RFC 8656's long-term credential mechanism.
    public func makeRelayClient() -> RelayClient {
        RelayClient(username: username, password: password, integrity: STUNIntegrity.longTermCredential)
    }

    public var description: String { "RelayCredentials(username: \(username), realm: \(realm), relay: \(relay), ttl: \(ttl))" }
}

extension STUNIntegrity {
    /// MESSAGE-INTEGRITY (HMAC-SHA1) under a TURN long-term credential (RFC 8489 §9.2): for
    /// `RelayClient` against Duet's relay or any TURN server such as coturn.
    public static func longTermCredential(username: String, realm: String, password: String) -> STUNIntegrity {
        let credential = TURNCredential(username: username, realm: realm, password: password)
        return STUNIntegrity(kind: .sha1) { credential.messageIntegrity(over: $0) }
    }
}
