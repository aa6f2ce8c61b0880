import DuetCrypto
import DuetWire
import Foundation

/// coturn relaying for this server (`--turn-secret S --turn-url turn:HOST:PORT`, docs/deployment.md
/// "TURN by coturn"): devices are handed TURN REST credentials for it instead of for the
/// built-in relay. coturn runs with `use-auth-secret` and `static-auth-secret=S`.
public struct CoturnRelay: Sendable {
    /// How long a credential lasts: as long as the built-in relay's (a relayed call lasts at
    /// most this long, and a leaked credential is usable this long).
    static let lifetime = RelayCredentialIssuer.lifetime

    let secret: SecureBytes
    /// Where devices reach coturn.
    public let server: HostPort

    /// `url` is `turn:HOST[:PORT]` (3478 when no port is given), as coturn and WebRTC write it.
    public init(secret: String, url: String) throws(ServerStartupError) {
        guard !secret.isEmpty else { throw .configuration("--turn-secret is empty; give coturn's static-auth-secret") }
        guard url.hasPrefix("turn:") else {
            throw .configuration("--turn-url '\(url)' is not a turn: URL; write turn:HOST:PORT, e.g. turn:turn.example.net:3478")
        }
        let rest = String(url.dropFirst("turn:".count).prefix { $0 != "?" })
        let withPort = rest.contains(":") && !rest.hasSuffix("]") ? rest : rest + ":3478"
        do { server = try HostPort(parsing: withPort) } catch {
            throw .configuration("--turn-url '\(url)': \(error)")
        }
        self.secret = SecureBytes(copying: Array(secret.utf8))
    }

    /// Credentials for `holder` (a number or a meeting guest id), valid from `now` (unix time).
    /// The realm is coturn's: the device takes it from coturn's first answer.
    func issue(holder: String, now: TimeInterval) -> Signaling.RelayCredentials {
        let username = "\(Int64(now + Self.lifetime)):\(holder)"
        return .init(
            username: username, password: TURNRESTPassword.password(secret: secret, username: username), realm: "",
            ttlSeconds: Int(Self.lifetime), relay: server.description)
    }
}
