import CSodium

/// The one source of random bytes for what must not be guessed: nonces, salts, STUN
/// transaction IDs, invite and meeting codes, test keys. It is libsodium's `randombytes_buf`
/// (getrandom(2) on Linux), so every such value comes from the kernel's CSPRNG through one
/// call that cannot fail, and no code builds bytes one `UInt8.random` at a time.
///
/// Secrets go straight into guarded memory with `SecureBytes(randomCount:)`, which fills
/// itself through `fill(_:)`; `bytes(_:)` is for values that are public or about to be sent.
public enum SecureRandom {
    /// `count` random bytes (an empty array for zero).
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "a negative number of random bytes")
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { fill($0) }
        return bytes
    }

    /// Fills `buffer` with random bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        Sodium.ready()
        randombytes_buf(base, buffer.count)
    }

    /// A random integer in `0..<upperBound`, with no modulo bias (`randombytes_uniform`), for
    /// picking symbols of a code from an alphabet.
    public static func uniform(below upperBound: UInt32) -> UInt32 {
        precondition(upperBound > 0, "no integer is below 0")
        Sodium.ready()
        return randombytes_uniform(upperBound)
    }
}
