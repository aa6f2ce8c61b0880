import Synchronization

/// Ed25519 public keys already checked and mapped to X25519. libsodium's
/// `crypto_sign_ed25519_pk_to_curve25519` decompresses the point and checks that it lies in the
/// main subgroup, a scalar multiplication: about 64 µs on this machine, as much as verifying a
/// signature. A group call meets the same few dozen identity keys thousands of times (vouches,
/// bundles, channel headers, contacts), and every `IdentityPublicKey` made from bytes paid it
/// again (docs/performance.md, "Group settle"). Each key is checked once now.
///
/// Public keys only, never a secret. Bounded: emptied when it holds `capacity` keys, so a
/// stream of new keys costs what it cost before and holds no more than that.
enum AgreementKeyCache {
    static let capacity = 4_096
    private static let known = Mutex<[[UInt8]: [UInt8]]>([:])

    /// The X25519 form of `identityKey`, from the cache or from `convert` (run outside the
    /// lock; a nil result, an invalid key, is not kept).
    static func agreementKey(for identityKey: [UInt8], convert: ([UInt8]) -> [UInt8]?) -> [UInt8]? {
        if let cached = known.withLock({ $0[identityKey] }) { return cached }
        guard let converted = convert(identityKey) else { return nil }
        known.withLock { keys in
            if keys.count >= capacity { keys.removeAll(keepingCapacity: true) }
            keys[identityKey] = converted
        }
        return converted
    }

    /// How many keys are held (tests).
    static var count: Int { known.withLock { $0.count } }
}
