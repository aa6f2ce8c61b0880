import Crypto
import Foundation

/// The password of a TURN REST API credential, as coturn checks it under `use-auth-secret`:
/// base64(HMAC-SHA1(shared secret, username)), where the username starts with its expiry
/// ("expiry:id"). The server that issues it and the TURN server share only the secret; nothing
/// is stored per credential. SHA-1 is coturn's fixed choice here, not Duet's.
public enum TURNRESTPassword {
    public static func password(secret: SecureBytes, username: String) -> String {
        secret.withUnsafeBytes { raw in
            Data(HMAC<Insecure.SHA1>.authenticationCode(for: Array(username.utf8), using: SymmetricKey(data: raw))).base64EncodedString()
        }
    }
}
