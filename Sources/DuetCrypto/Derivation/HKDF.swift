import CSodium

/// The hash under HKDF. libsodium 1.0.18 has no HKDF, so it is built here on libsodium's
/// HMAC-SHA-256 and HMAC-SHA-512 exactly as RFC 5869 §2 describes.
public enum HKDFHash: Sendable {
    case sha256
    case sha512

    /// Output length of the hash, in bytes.
    public var length: Int {
        switch self {
        case .sha256: Int(crypto_auth_hmacsha256_BYTES)
        case .sha512: Int(crypto_auth_hmacsha512_BYTES)
        }
    }
}

/// HMAC-based extract-and-expand key derivation (RFC 5869).
public enum HKDF {
    /// Key material longer than 255 hash blocks cannot be expanded (RFC 5869 §2.3).
    public struct OutputTooLong: Error, CustomStringConvertible {
        public let requested: Int
        public let maximum: Int
        public var description: String { "HKDF can expand at most \(maximum) bytes, \(requested) were asked for" }
    }

    /// HKDF-Extract: PRK = HMAC(salt, IKM). An empty salt means HashLen zero bytes.
    public static func extract(_ hash: HKDFHash, salt: some Collection<UInt8>, inputKeyMaterial ikm: SecureBytes) -> SecureBytes {
        let salt = salt.isEmpty ? [UInt8](repeating: 0, count: hash.length) : Array(salt)
        return salt.withUnsafeBytes { saltBytes in
            ikm.withUnsafeBytes { ikmBytes in
                hmac(hash, key: saltBytes) { update in update(ikmBytes) }
            }
        }
    }

    /// HKDF-Expand: the first `length` bytes of T(1) ‖ T(2) ‖ … with T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i).
    public static func expand(_ hash: HKDFHash, pseudorandomKey prk: SecureBytes, info: some Collection<UInt8>, length: Int)
        throws(OutputTooLong) -> SecureBytes
    {
        let maximum = 255 * hash.length
        guard length > 0, length <= maximum else { throw OutputTooLong(requested: length, maximum: maximum) }
        return expandChecked(hash, pseudorandomKey: prk, info: info, length: length)
    }

    /// HKDF-Expand itself, for a `length` the caller has checked against 255 × HashLen.
    private static func expandChecked(_ hash: HKDFHash, pseudorandomKey prk: SecureBytes, info: some Collection<UInt8>, length: Int)
        -> SecureBytes
    {
        let info = Array(info)
        return SecureBytes(count: length) { out in
            var previous: SecureBytes? = nil
            var written = 0
            var counter: UInt8 = 1
            while written < length {
                let block: SecureBytes = prk.withUnsafeBytes { key in
                    hmac(hash, key: key) { update in
                        previous?.withUnsafeBytes { update($0) }
                        info.withUnsafeBytes { update($0) }
                        withUnsafeBytes(of: counter) { update($0) }
                    }
                }
                let take = min(block.count, length - written)
                block.withUnsafeBytes { out.baseAddress!.advanced(by: written).copyMemory(from: $0.baseAddress!, byteCount: take) }
                written += take
                counter &+= 1
                previous = block
            }
        }
    }

    /// Extract then expand.
    public static func deriveKey(
        _ hash: HKDFHash, inputKeyMaterial ikm: SecureBytes, salt: some Collection<UInt8>, info: some Collection<UInt8>, length: Int
    ) throws(OutputTooLong) -> SecureBytes {
        try expand(hash, pseudorandomKey: extract(hash, salt: salt, inputKeyMaterial: ikm), info: info, length: length)
    }

    /// HKDF-Expand for a short output: `count` bytes, at most 255. It cannot fail, so it does not
    /// throw: RFC 5869 §2.3 allows up to 255 × HashLen bytes, which is 8160 for SHA-256 (16320 for
    /// SHA-512), and a `UInt8` is at most 255 — a literal above that does not compile. (Zero bytes
    /// is no key; `SecureBytes` refuses it, as it does everywhere.) Use this for the fixed sizes
    /// keys, salts and nonces have; the `length:` form is for lengths only known at run time.
    public static func expand(_ hash: HKDFHash, pseudorandomKey prk: SecureBytes, info: some Collection<UInt8>, count: UInt8)
        -> SecureBytes
    {
        expandChecked(hash, pseudorandomKey: prk, info: info, length: Int(count))
    }

    /// Extract then expand to a short output; cannot fail (see `expand(_:pseudorandomKey:info:count:)`).
    public static func deriveKey(
        _ hash: HKDFHash, inputKeyMaterial ikm: SecureBytes, salt: some Collection<UInt8>, info: some Collection<UInt8>, count: UInt8
    ) -> SecureBytes {
        expand(hash, pseudorandomKey: extract(hash, salt: salt, inputKeyMaterial: ikm), info: info, count: count)
    }

    /// One HMAC over the pieces `feed` hands to `update`, keyed with `key` (any length).
    static func hmac(_ hash: HKDFHash, key keyBytes: UnsafeRawBufferPointer, feed: ((UnsafeRawBufferPointer) -> Void) -> Void)
        -> SecureBytes
    {
        Sodium.ready()
        return SecureBytes(count: hash.length) { out in
            let mac = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            // libsodium wants a non-null key pointer even for a zero-length key.
            var emptyKey: UInt8 = 0
            withUnsafePointer(to: &emptyKey) { fallback in
                let keyPointer = keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? fallback
                switch hash {
                case .sha256:
                    var state = crypto_auth_hmacsha256_state()
                    crypto_auth_hmacsha256_init(&state, keyPointer, keyBytes.count)
                    feed { part in
                        guard let bytes = part.baseAddress, part.count > 0 else { return }
                        crypto_auth_hmacsha256_update(&state, bytes.assumingMemoryBound(to: UInt8.self), UInt64(part.count))
                    }
                    crypto_auth_hmacsha256_final(&state, mac)
                    sodium_memzero(&state, MemoryLayout.size(ofValue: state))
                case .sha512:
                    var state = crypto_auth_hmacsha512_state()
                    crypto_auth_hmacsha512_init(&state, keyPointer, keyBytes.count)
                    feed { part in
                        guard let bytes = part.baseAddress, part.count > 0 else { return }
                        crypto_auth_hmacsha512_update(&state, bytes.assumingMemoryBound(to: UInt8.self), UInt64(part.count))
                    }
                    crypto_auth_hmacsha512_final(&state, mac)
                    sodium_memzero(&state, MemoryLayout.size(ofValue: state))
                }
            }
        }
    }
}
