import CSodium
import DuetCrypto

/// SFrame cipher suites (RFC 9605 §4.5) Duet implements.
///
/// Only AES_256_GCM_SHA512_128: it is the one suite libsodium reproduces alone (libsodium
/// has AES-256-GCM but no AES-128 and no AES-CTR), and it is checked against the RFC's
/// test vectors. Its AEAD needs AES-NI and PCLMUL, which `isAvailable` reports.
public enum SFrameCipherSuite: UInt16, Sendable, CustomStringConvertible {
    case aes256GCMSHA512_128 = 0x0005

    /// Nk: AEAD key bytes.
    public var keyLength: Int { Int(keyCount) }
    /// Nn: nonce (and salt) bytes.
    public var nonceLength: Int { Int(nonceCount) }
    /// Nk as the byte count HKDF's non-throwing expand takes (libsodium's 32).
    var keyCount: UInt8 { UInt8(crypto_aead_aes256gcm_KEYBYTES) }
    /// Nn as the byte count HKDF's non-throwing expand takes (libsodium's 12).
    var nonceCount: UInt8 { UInt8(crypto_aead_aes256gcm_NPUBBYTES) }
    /// Nt: authentication tag bytes.
    public var tagLength: Int { Int(crypto_aead_aes256gcm_ABYTES) }
    /// The hash under HKDF in the key schedule.
    var hash: HKDFHash { .sha512 }

    public var description: String { "AES_256_GCM_SHA512_128 (0x0005)" }

    /// Whether this CPU can run the suite's AEAD through libsodium.
    public var isAvailable: Bool { Self.aesGCMAvailable }

    private static let aesGCMAvailable: Bool = {
        // sodium_init is idempotent and thread-safe; the availability probe needs it first.
        guard sodium_init() >= 0 else { return false }
        return crypto_aead_aes256gcm_is_available() == 1
    }()
}
