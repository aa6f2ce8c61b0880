import CSodium

/// The 60-digit number two contacts compare to know they hold each other's real identity
/// keys: libsignal's displayable numeric fingerprint, version 0 (docs/ARCHITECTURE.md "Safety number").
///
/// Each side's half is 30 digits from SHA-512 iterated 5200 times over
/// 0x0000 ‖ key ‖ number ‖ key, then ‖ key each round, where key is the identity key's
/// X25519 form serialized 0x05 ‖ 32 bytes. The lower half comes first, so both screens show
/// the same number.
public struct SafetyNumber: Hashable, Sendable, CustomStringConvertible {
    public static let iterations = 5200
    /// All 60 digits.
    public let digits: String

    public init(localNumber: String, localKey: IdentityPublicKey, remoteNumber: String, remoteKey: IdentityPublicKey) {
        self.init(
            localIdentifier: Array(localNumber.utf8), localKey: localKey.agreementKey.encoded,
            remoteIdentifier: Array(remoteNumber.utf8), remoteKey: remoteKey.agreementKey.encoded)
    }

    /// Over already-serialized keys (33 bytes), as libsignal's test vectors give them.
    init(
        localIdentifier: [UInt8], localKey: [UInt8], remoteIdentifier: [UInt8], remoteKey: [UInt8],
        iterations: Int = SafetyNumber.iterations
    ) {
        let local = Self.half(identifier: localIdentifier, key: localKey, iterations: iterations)
        let remote = Self.half(identifier: remoteIdentifier, key: remoteKey, iterations: iterations)
        digits = local < remote ? local + remote : remote + local
    }

    /// Twelve groups of five digits, as shown on screen.
    public var groups: [String] {
        stride(from: 0, to: 60, by: 5).map { i in
            let start = digits.index(digits.startIndex, offsetBy: i)
            return String(digits[start..<digits.index(start, offsetBy: 5)])
        }
    }

    /// The groups in three lines of four, for a contact's detail screen.
    public var lines: [String] {
        stride(from: 0, to: 12, by: 4).map { groups[$0..<$0 + 4].joined(separator: " ") }
    }

    public var description: String { groups.joined(separator: " ") }

    static func half(identifier: [UInt8], key: [UInt8], iterations: Int) -> String {
        Sodium.ready()
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha512_BYTES))
        var state = crypto_hash_sha512_state()
        crypto_hash_sha512_init(&state)
        crypto_hash_sha512_update(&state, [0, 0], 2)
        crypto_hash_sha512_update(&state, key, UInt64(key.count))
        crypto_hash_sha512_update(&state, identifier, UInt64(identifier.count))
        crypto_hash_sha512_update(&state, key, UInt64(key.count))
        crypto_hash_sha512_final(&state, &digest)
        for _ in 1..<iterations {
            crypto_hash_sha512_init(&state)
            crypto_hash_sha512_update(&state, digest, UInt64(digest.count))
            crypto_hash_sha512_update(&state, key, UInt64(key.count))
            crypto_hash_sha512_final(&state, &digest)
        }
        return (0..<6).map { chunk in
            let value = digest[chunk * 5..<chunk * 5 + 5].reduce(UInt64(0)) { ($0 << 8) | UInt64($1) } % 100_000
            let text = String(value)
            return String(repeating: "0", count: 5 - text.count) + text
        }.joined()
    }
}
