/// Why an SFrame operation failed. Receivers drop the frame on any of these (RFC 9605
/// §4.4.4); `unknownKeyID` is the one worth retrying once the sender key arrives.
public enum SFrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The header does not decode (see `SFrameHeader.Problem`).
    case malformedHeader(SFrameHeader.Problem)
    /// Fewer bytes after the header than the authentication tag alone needs.
    case ciphertextTooShort(length: Int, minimum: Int)
    /// No key is held for this KID: not distributed yet, or already dropped after a rekey.
    case unknownKeyID(UInt64)
    /// The AEAD tag did not verify: altered frame, wrong key, or wrong metadata.
    case authenticationFailed(keyID: UInt64, counter: UInt64)
    /// This (KID, CTR) was already accepted, or is older than the replay window.
    case replay(keyID: UInt64, counter: UInt64, tooOld: Bool)
    /// The sender used every counter value of this key; install a new key (new KID).
    case counterExhausted(keyID: UInt64)
    /// `encrypt` was called before any sender key was set.
    case noSendKey
    /// A KID already used for a different key: reusing it would reuse nonces (RFC 9605 §9.3).
    case keyIDReused(UInt64)
    /// Base keys shorter than this give less security than the suite promises.
    case baseKeyTooShort(length: Int, minimum: Int)
    /// The CPU lacks the AES-NI/PCLMUL instructions libsodium's AES-256-GCM requires.
    case cipherSuiteUnavailable(SFrameCipherSuite)

    public var description: String {
        switch self {
        case let .malformedHeader(problem): "SFrame header is malformed: \(problem)"
        case let .ciphertextTooShort(length, minimum):
            "SFrame ciphertext of \(length) bytes is shorter than the \(minimum) bytes of header and tag"
        case let .unknownKeyID(kid): "no SFrame key for KID \(kid); it was not distributed yet or was dropped after a rekey"
        case let .authenticationFailed(kid, ctr): "SFrame authentication failed for KID \(kid) CTR \(ctr): frame altered or keys differ"
        case let .replay(kid, ctr, tooOld):
            tooOld
                ? "SFrame KID \(kid) CTR \(ctr) is older than the replay window"
                : "SFrame KID \(kid) CTR \(ctr) was already received (replay)"
        case let .counterExhausted(kid): "SFrame counter for KID \(kid) is exhausted; set a new sender key"
        case .noSendKey: "no SFrame sender key set; call setKey(_:keyID:) before encrypting"
        case let .keyIDReused(kid): "SFrame KID \(kid) was already used with a different key; give every new key a new KID"
        case let .baseKeyTooShort(length, minimum): "SFrame base key of \(length) bytes is shorter than \(minimum)"
        case let .cipherSuiteUnavailable(suite):
            "SFrame cipher suite \(suite) is unavailable: libsodium's AES-256-GCM needs AES-NI and PCLMUL"
        }
    }
}
