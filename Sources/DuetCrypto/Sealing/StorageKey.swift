import CSodium

/// How hard Argon2id works to turn a passphrase into a storage key. Stored beside the salt,
/// so a store made with one cost opens with the same cost later.
public struct PassphraseCost: Hashable, Sendable, Codable {
    public let operations: UInt64
    public let memoryBytes: Int

    /// libsodium's "interactive" limits: about a tenth of a second, 64 MiB.
    public static let interactive = PassphraseCost(
        operations: UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE), memoryBytes: Int(crypto_pwhash_MEMLIMIT_INTERACTIVE))
    /// The least libsodium allows; for tests, where thousands of derivations would be slow.
    public static let minimum = PassphraseCost(operations: UInt64(crypto_pwhash_OPSLIMIT_MIN), memoryBytes: Int(crypto_pwhash_MEMLIMIT_MIN))

    public init(operations: UInt64, memoryBytes: Int) {
        self.operations = operations
        self.memoryBytes = memoryBytes
    }
}

/// Why sealed data could not be opened.
public enum SealingError: Error, Equatable, CustomStringConvertible {
    /// The authentication tag did not verify: wrong key, or the bytes were altered.
    case cannotOpen
    /// Too short to be a sealed box.
    case malformed
    /// Argon2id could not run with these limits (typically: not enough memory).
    case keyDerivationFailed

    public var description: String {
        switch self {
        case .cannotOpen: "sealed data could not be opened: wrong passphrase, or the data was altered"
        case .malformed: "sealed data is truncated or not a sealed box"
        case .keyDerivationFailed: "the passphrase could not be stretched (Argon2id ran out of memory?)"
        }
    }
}

/// A symmetric key that seals secrets at rest (XSalsa20-Poly1305 `crypto_secretbox`),
/// made from a passphrase with Argon2id (`crypto_pwhash`). Sealed form: nonce ‖ box.
public struct StorageKey: Sendable {
    public static let saltCount = Int(crypto_pwhash_SALTBYTES)
    private let key: SecureBytes

    /// Stretches `passphrase` with Argon2id under `salt`.
    public init(passphrase: String, salt: [UInt8], cost: PassphraseCost) throws(SealingError) {
        precondition(salt.count == Self.saltCount)
        Sodium.ready()
        var failed = false
        key = SecureBytes(count: Int(crypto_secretbox_KEYBYTES)) { out in
            failed =
                crypto_pwhash(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(out.count),
                    passphrase, UInt64(passphrase.utf8.count), salt, cost.operations, cost.memoryBytes,
                    crypto_pwhash_ALG_ARGON2ID13) != 0
        }
        if failed { throw .keyDerivationFailed }
    }

    /// A fresh random salt for a new store.
    public static func randomSalt() -> [UInt8] {
        SecureRandom.bytes(saltCount)
    }

    /// Seals `secret` under a fresh random nonce.
    public func seal(_ secret: SecureBytes) -> [UInt8] {
        let nonceCount = Int(crypto_secretbox_NONCEBYTES)
        var out = [UInt8](repeating: 0, count: nonceCount + secret.count + Int(crypto_secretbox_MACBYTES))
        out.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            SecureRandom.fill(UnsafeMutableRawBufferPointer(start: base, count: nonceCount))
            secret.withUnsafeBytes { plain in
                key.withUnsafeBytes { k in
                    _ = crypto_secretbox_easy(
                        base + nonceCount, plain.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(plain.count),
                        base, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        return out
    }

    /// Opens what `seal` made, straight into secure memory.
    public func open(_ sealed: [UInt8]) throws(SealingError) -> SecureBytes {
        let nonceCount = Int(crypto_secretbox_NONCEBYTES), macCount = Int(crypto_secretbox_MACBYTES)
        guard sealed.count > nonceCount + macCount else { throw .malformed }
        var failed = false
        let plain = SecureBytes(count: sealed.count - nonceCount - macCount) { out in
            sealed.withUnsafeBufferPointer { s in
                key.withUnsafeBytes { k in
                    failed =
                        crypto_secretbox_open_easy(
                            out.baseAddress!.assumingMemoryBound(to: UInt8.self), s.baseAddress! + nonceCount,
                            UInt64(s.count - nonceCount), s.baseAddress!,
                            k.baseAddress!.assumingMemoryBound(to: UInt8.self)) != 0
                }
            }
        }
        if failed { throw .cannotOpen }
        return plain
    }
}
