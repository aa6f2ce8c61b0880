import CSodium

/// A device's long-term identity public key (Ed25519). Its X25519 form takes part in X3DH.
public struct IdentityPublicKey: Hashable, Sendable {
    public static let byteCount = 32
    public let rawRepresentation: [UInt8]
    /// The same key as an X25519 point (libsodium's birational map), for DH1/DH2 and AD.
    public let agreementKey: X25519PublicKey

    /// Refuses bytes that are not a valid Ed25519 point in the main subgroup (checked once per
    /// key and process, `AgreementKeyCache`).
    public init(rawRepresentation: some Collection<UInt8>) throws(KeyError) {
        try checkLength(rawRepresentation.count, Self.byteCount, "identity public key")
        let raw = Array(rawRepresentation)
        let converted = AgreementKeyCache.agreementKey(for: raw) { raw in
            var x = [UInt8](repeating: 0, count: 32)
            Sodium.ready()
            return crypto_sign_ed25519_pk_to_curve25519(&x, raw) == 0 ? x : nil
        }
        guard let converted else { throw .invalidIdentityKey }
        self.rawRepresentation = raw
        self.agreementKey = try X25519PublicKey(rawRepresentation: converted)
    }

    /// Ed25519 verification of a detached 64-byte signature.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == Int(crypto_sign_BYTES) else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), rawRepresentation) == 0
    }

    /// What people compare by eye: SHA-256 of the key, first 16 bytes, as 8 groups of 4 hex digits.
    public var fingerprint: String {
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        crypto_hash_sha256(&digest, rawRepresentation, UInt64(rawRepresentation.count))
        let hex = digest.prefix(16).map { String(format2: $0) }.joined()
        return stride(from: 0, to: hex.count, by: 4).map { i in
            String(hex[hex.index(hex.startIndex, offsetBy: i)..<hex.index(hex.startIndex, offsetBy: i + 4)])
        }.joined(separator: " ")
    }

    /// The first two fingerprint groups, for status bars.
    public var shortFingerprint: String { fingerprint.split(separator: " ").prefix(2).joined(separator: " ") }
}

extension String {
    /// Two lower-case hex digits.
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }
}

/// A device's identity key pair: Ed25519 for signatures, converted to X25519 for X3DH.
/// Made once, on first run; only the 32-byte seed is ever stored.
public struct IdentityKeyPair: Sendable {
    /// The Ed25519 seed the whole pair is derived from (what the device store keeps).
    public let seed: SecureBytes
    public let publicKey: IdentityPublicKey
    private let signingKey: SecureBytes
    /// The X25519 form of the private key, for DH.
    public let agreementKeyPair: X25519KeyPair

    /// Re-derives the pair from its 32-byte seed.
    public init(seed: SecureBytes) throws(KeyError) {
        try checkLength(seed.count, Int(crypto_sign_SEEDBYTES), "identity seed")
        Sodium.ready()
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        let sk = SecureBytes(count: Int(crypto_sign_SECRETKEYBYTES)) { out in
            seed.withUnsafeBytes { s in
                _ = crypto_sign_seed_keypair(
                    &pk, out.baseAddress!.assumingMemoryBound(to: UInt8.self), s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        let x25519 = SecureBytes(count: 32) { out in
            sk.withUnsafeBytes { s in
                _ = crypto_sign_ed25519_sk_to_curve25519(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        self.seed = seed
        self.signingKey = sk
        self.publicKey = try IdentityPublicKey(rawRepresentation: pk)
        self.agreementKeyPair = try X25519KeyPair(privateKey: x25519)
    }

    /// A fresh identity from the system CSPRNG.
    public static func generate() -> IdentityKeyPair {
        try! IdentityKeyPair(seed: SecureBytes(randomCount: Int(crypto_sign_SEEDBYTES)))
    }

    /// A detached Ed25519 signature.
    public func signature(for message: [UInt8]) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        signingKey.withUnsafeBytes { sk in
            _ = crypto_sign_detached(&sig, nil, message, UInt64(message.count), sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return sig
    }
}
