import CSodium

/// An XChaCha20-Poly1305 (IETF) key for end-to-end encrypted signaling blobs: the call
/// offer and answer, sender keys for group calls. Sealed form: 24-byte random nonce ‖ box.
public struct AEADKey: Sendable {
    public static let keyCount = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    private let key: SecureBytes

    public init(_ key: SecureBytes) throws(KeyError) {
        try checkLength(key.count, Self.keyCount, "AEAD key")
        Sodium.ready()
        self.key = key
    }

    /// A key made by HKDF from a secret: cannot fail, since HKDF gives exactly `keyCount` bytes.
    public static func derived(_ hash: HKDFHash, from prk: SecureBytes, info: some Collection<UInt8>) -> AEADKey {
        AEADKey(exact: HKDF.expand(hash, pseudorandomKey: prk, info: info, count: UInt8(keyCount)))
    }

    /// Extract then expand, as `derived(_:from:info:)`.
    public static func derived(
        _ hash: HKDFHash, inputKeyMaterial ikm: SecureBytes, salt: some Collection<UInt8>, info: some Collection<UInt8>
    ) -> AEADKey {
        AEADKey(exact: HKDF.deriveKey(hash, inputKeyMaterial: ikm, salt: salt, info: info, count: UInt8(keyCount)))
    }

    /// A key whose size the caller made right (HKDF with `keyCount`).
    private init(exact key: SecureBytes) {
        Sodium.ready()
        self.key = key
    }

    /// Encrypts and authenticates `plaintext`, binding `associatedData` to it.
    public func seal(_ plaintext: [UInt8], associatedData: [UInt8]) -> [UInt8] {
        let nonceCount = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
        var out = [UInt8](repeating: 0, count: nonceCount + plaintext.count + Int(crypto_aead_xchacha20poly1305_ietf_ABYTES))
        out.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            SecureRandom.fill(UnsafeMutableRawBufferPointer(start: base, count: nonceCount))
            key.withUnsafeBytes { k in
                var written: UInt64 = 0
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    base + nonceCount, &written, plaintext, UInt64(plaintext.count),
                    associatedData, UInt64(associatedData.count), nil, base,
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return out
    }

    /// Opens what `seal` made under the same associated data, or throws `cannotOpen`.
    public func open(_ sealed: [UInt8], associatedData: [UInt8]) throws(SealingError) -> [UInt8] {
        let nonceCount = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES), tag = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
        guard sealed.count >= nonceCount + tag else { throw .malformed }
        var plain = [UInt8](repeating: 0, count: sealed.count - nonceCount - tag)
        var written: UInt64 = 0
        let status = sealed.withUnsafeBufferPointer { s in
            key.withUnsafeBytes { k in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    &plain, &written, nil, s.baseAddress! + nonceCount, UInt64(s.count - nonceCount),
                    associatedData, UInt64(associatedData.count), s.baseAddress!,
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard status == 0 else { throw .cannotOpen }
        return plain
    }
}
