import Crypto

/// A TURN long-term credential (RFC 8489 §9.2, RFC 8656): the key both ends derive from a
/// username, realm and password, and the MESSAGE-INTEGRITY (HMAC-SHA1) it signs requests
/// and responses with.
///
/// Shared by the Duet relay and the client, and the same for any TURN server (coturn), so
/// one implementation is checked against RFC 5769 §2.4. MD5 and SHA-1 are what the protocol
/// fixes for this attribute, not a choice: here they authenticate relay use, and the media
/// through the relay is SRTP under keys only the two devices hold.
///
/// DuetCrypto knows no STUN framing: callers wrap `messageIntegrity(over:)` in DuetWire's
/// `STUNIntegrity(kind: .sha1, …)`.
public struct TURNCredential: Sendable {
    /// MESSAGE-INTEGRITY is an HMAC-SHA1: 20 bytes.
    public static let integrityLength = 20

    /// MD5(username ":" realm ":" password), the HMAC key (16 bytes).
    public let key: SecureBytes

    /// Derives the key. Strings are taken as their UTF-8 bytes; RFC 8489's OpaqueString
    /// preparation is the identity for the ASCII names Duet and coturn users use, and for
    /// the RFC 5769 sample (already NFC).
    public init(username: String, realm: String, password: String) {
        var input = Array("\(username):\(realm):\(password)".utf8)
        defer { wipe(&input) }
        let digest = Insecure.MD5.hash(data: input)
        key = digest.withUnsafeBytes { SecureBytes(copying: $0) }
    }

    /// HMAC-SHA1 under `key` over `message`: the STUN message up to (not including) the
    /// MESSAGE-INTEGRITY attribute, with its length field already counting that attribute
    /// (DuetWire's `STUNMessage.encoded(integrity:)` and `verifyIntegrity` prepare it so).
    public func messageIntegrity(over message: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { raw in
            Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: raw)))
        }
    }
}
