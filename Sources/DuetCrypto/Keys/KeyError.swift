/// Why key material was refused. Messages say what was wrong with which key.
public enum KeyError: Error, Equatable, CustomStringConvertible {
    /// A key or signature had the wrong number of bytes.
    case wrongLength(what: String, expected: Int, actual: Int)
    /// An Ed25519 public key is not a valid curve point and has no X25519 form.
    case invalidIdentityKey
    /// A Diffie-Hellman result was all zeros: the peer sent a small-order (weak) point.
    case weakPublicKey
    /// A signed prekey's signature does not verify under the identity key it claims.
    case badSignedPrekeySignature(prekeyID: UInt32)
    /// A sealed box did not open with this device's key: sealed to another key, or altered.
    case unsealFailed

    public var description: String {
        switch self {
        case let .wrongLength(what, expected, actual):
            "\(what) must be \(expected) bytes, got \(actual)"
        case .invalidIdentityKey:
            "identity key is not a valid Ed25519 public key"
        case .weakPublicKey:
            "peer public key is a small-order point; refusing the key agreement"
        case let .badSignedPrekeySignature(id):
            "signed prekey \(id) is not signed by the identity key it came with; the bundle may have been tampered with"
        case .unsealFailed:
            "the sealed message does not open with this device's key: it was sealed to another key, or altered"
        }
    }
}

func checkLength(_ count: Int, _ expected: Int, _ what: String) throws(KeyError) {
    guard count == expected else { throw .wrongLength(what: what, expected: expected, actual: count) }
}
