/// HMAC-SHA-256/512 over libsodium, for values that authenticate messages rather than
/// become keys (STUN integrity between Duet peers, relay credentials). Keys that must stay
/// secret are passed as `SecureBytes`.
public enum MessageAuthentication {
    /// HMAC(key, message) with the given hash.
    public static func code(_ hash: HKDFHash, key: SecureBytes, message: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                HKDF.hmac(hash, key: k) { update in update(m) }.withUnsafeBytes { Array($0) }
            }
        }
    }
}
