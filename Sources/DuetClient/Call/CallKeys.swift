import DuetCrypto

/// Every key one 1:1 call uses, derived on the two devices from the X3DH secret, a DH of the two
/// sides' ephemeral keys and both sides' fresh nonces. Held in `SecureBytes` only; dropping the
/// value at hang-up zeroes them.
///
///     session  = HKDF-SHA256(IKM = SK ‖ DH(EKcaller, EKcallee), salt = callerNonce ‖ calleeNonce, info "Duet call v2")
///     SRTP     = HKDF(session, "Duet SRTP caller->callee" | "Duet SRTP callee->caller"), 30 bytes each
///                (16-byte AES key ‖ 14-byte salt, the AES_CM_128_HMAC_SHA1_80 master key)
///     confirm  = HKDF(session, "Duet key confirmation")
///     signals  = HKDF(session, "Duet call signals v1"): seals signals sent after the answer
///     SAS      = from HKDF(session, "Duet SAS key") and the caller's revealed value (SASCommitment)
///
/// The callee's nonce makes every answered call's keys fresh even if an offer without a
/// one-time prekey is replayed (X3DH §4.2). The ephemeral DH gives the call forward secrecy
/// with or without a one-time prekey: both ephemeral private keys are gone once the keys are
/// made, so whoever later reads either device's store (identity and signed prekey) and has
/// the signals recorded can rebuild SK but not the call's keys.
public struct CallKeys: Sendable {
    public static let nonceCount = 32
    public static let srtpMasterKeyCount = 30
    /// Bytes of a key confirmation (HMAC-SHA256).
    public static let confirmationCount = 32

    /// The objects holding these keys (a test watches them all released when the call ends).
    var secretHolders: [any AnyObject & Sendable] {
        [sasKey, callerToCallee, calleeToCaller, confirmationKey] + caller.secretHolders + callee.secretHolders
    }

    /// The SAS's own key; the words also need the caller's revealed value (`sas(reveal:)`).
    private let sasKey: SecureBytes
    /// SRTP master key ‖ salt for media the caller sends.
    public let callerToCallee: SecureBytes
    /// SRTP master key ‖ salt for media the callee sends.
    public let calleeToCaller: SecureBytes
    /// Connectivity-check credentials of each side.
    public let caller: ConnectivityCredentials
    public let callee: ConnectivityCredentials
    private let confirmationKey: SecureBytes
    private let signalKey: AEADKey

    public init(callSecret: SecureBytes, ephemeralSecret: SecureBytes, callerNonce: [UInt8], calleeNonce: [UInt8]) {
        let session = Self.session(
            callSecret: callSecret, ephemeralSecret: ephemeralSecret, callerNonce: callerNonce, calleeNonce: calleeNonce)
        func derive(_ label: String, _ count: UInt8) -> SecureBytes {
            HKDF.expand(.sha256, pseudorandomKey: session, info: Array(label.utf8), count: count)
        }
        sasKey = Self.sasKey(session: session)
        callerToCallee = derive("Duet SRTP caller->callee", UInt8(Self.srtpMasterKeyCount))
        calleeToCaller = derive("Duet SRTP callee->caller", UInt8(Self.srtpMasterKeyCount))
        confirmationKey = derive("Duet key confirmation", 32)
        signalKey = AEADKey.derived(.sha256, from: session, info: Array("Duet call signals v1".utf8))
        (caller, callee) = ConnectivityCredentials.derive(callSecret: session)
    }

    static func session(callSecret: SecureBytes, ephemeralSecret: SecureBytes, callerNonce: [UInt8], calleeNonce: [UInt8]) -> SecureBytes {
        let material = SecureBytes(count: callSecret.count + ephemeralSecret.count) { buffer in
            callSecret.withUnsafeBytes { buffer.copyMemory(from: $0) }
            ephemeralSecret.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[callSecret.count...]).copyMemory(from: $0) }
        }
        return HKDF.deriveKey(
            .sha256, inputKeyMaterial: material, salt: callerNonce + calleeNonce, info: Array("Duet call v2".utf8), count: 32)
    }

    /// The SAS's key alone (the rest of the keys are not needed to compute the words: a test
    /// plays a grinding man in the middle with it, many thousand times).
    static func sasKey(session: SecureBytes) -> SecureBytes {
        HKDF.expand(.sha256, pseudorandomKey: session, info: Array("Duet SAS key".utf8), count: 32)
    }

    /// The words both screens show, once the caller's committed value is revealed: the caller
    /// knows it from the start, the callee from the caller's `confirm` (after checking it against
    /// the offer's commitment). Before that, nobody — a man in the middle included — can know them.
    public func sas(reveal: [UInt8]) -> ShortAuthenticationString {
        ShortAuthenticationString(callSecret: sasKey, reveal: reveal)
    }

    /// The MAC a side sends to prove it holds the same keys: over its role and the call id,
    /// so a confirmation cannot be reflected back or moved to another call.
    public func confirmation(fromCaller: Bool, callID: String) -> [UInt8] {
        MessageAuthentication.code(.sha256, key: confirmationKey, message: Array("\(fromCaller ? "caller" : "callee") \(callID)".utf8))
    }

    /// Checks the peer's confirmation in constant time.
    public func verifyConfirmation(_ code: [UInt8], fromCaller: Bool, callID: String) -> Bool {
        let expected = confirmation(fromCaller: fromCaller, callID: callID)
        guard code.count == expected.count else { return false }
        return zip(code, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Seals a call signal sent once both sides hold the keys (the relayed address), so the
    /// server that forwards it can neither read nor change it.
    public func sealSignal(_ plaintext: [UInt8], fromCaller: Bool, callID: String) -> [UInt8] {
        signalKey.seal(plaintext, associatedData: Array("\(fromCaller ? "caller" : "callee") \(callID)".utf8))
    }

    /// Opens a signal the peer sealed; `fromCaller` is the peer's role.
    public func openSignal(_ sealed: [UInt8], fromCaller: Bool, callID: String) throws -> [UInt8] {
        try signalKey.open(sealed, associatedData: Array("\(fromCaller ? "caller" : "callee") \(callID)".utf8))
    }

    /// The offer's and answer's AEAD keys come from SK alone (the answer's nonce is inside
    /// the answer): a separate label for each direction.
    public static func signalingKey(callSecret: SecureBytes, forOffer: Bool) -> AEADKey {
        AEADKey.derived(
            .sha256, inputKeyMaterial: callSecret, salt: [], info: Array((forOffer ? "Duet offer v1" : "Duet answer v1").utf8))
    }
}
