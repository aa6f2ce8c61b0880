import DuetCrypto
import DuetWire

/// The short-term STUN credentials of one side of a call's connectivity checks, derived
/// from the call secret so only the two devices can make a check the other accepts.
public struct ConnectivityCredentials: Sendable {
    /// Username fragment (public, sent in USERNAME).
    public let fragment: String
    /// The key of MESSAGE-INTEGRITY-SHA256 on checks addressed to this side.
    let key: SecureBytes

    /// Both sides' credentials from SK: each side's fragment and key from its own label.
    public static func derive(callSecret: SecureBytes) -> (caller: ConnectivityCredentials, callee: ConnectivityCredentials) {
        func side(_ label: String) -> ConnectivityCredentials {
            let fragment = HKDF.deriveKey(
                .sha256, inputKeyMaterial: callSecret, salt: [], info: Array("Duet ICE ufrag \(label)".utf8), count: 6)
            let key = HKDF.deriveKey(.sha256, inputKeyMaterial: callSecret, salt: [], info: Array("Duet ICE key \(label)".utf8), count: 32)
            let text = fragment.withUnsafeBytes {
                $0.map { byte in String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }.joined()
            }
            return ConnectivityCredentials(fragment: text, key: key)
        }
        return (side("caller"), side("callee"))
    }

    init(fragment: String, key: SecureBytes) {
        self.fragment = fragment
        self.key = key
    }

    /// Test hook: the key object, to check it is released with the call.
    var secretHolders: [any AnyObject & Sendable] { [key] }

    var integrity: STUNIntegrity {
        let key = key
        return STUNIntegrity(kind: .sha256) { MessageAuthentication.code(.sha256, key: key, message: $0) }
    }
}
