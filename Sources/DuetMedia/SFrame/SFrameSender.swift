import DuetCrypto
import Synchronization

/// Encrypts this device's media frames with its current sender key (RFC 9605 §4.4.3).
///
/// A sender key is encrypt-only: receivers hold it in an `SFrameReceiver`, never here, as
/// §4.4.1 asks. Each key has its own KID and its own counter from 0; a rekey installs a new
/// key under a new KID, and a KID is never taken again, so no (KID, CTR) pair, and hence no
/// nonce, is ever used twice.
public final class SFrameSender: Sendable {
    public let suite: SFrameCipherSuite

    private struct State: Sendable {
        var current: SFrameKeyMaterial?
        /// The counter for the next frame; nil once UInt64.max has been used.
        var nextCounter: UInt64? = 0
        var usedKeyIDs: Set<UInt64> = []
    }

    private let state = Mutex(State())

    public init(suite: SFrameCipherSuite = .aes256GCMSHA512_128) throws(SFrameError) {
        guard suite.isAvailable else { throw .cipherSuiteUnavailable(suite) }
        self.suite = suite
    }

    /// Switches to a new sender key; the next frame carries `keyID` and counter 0.
    public func setKey(_ baseKey: SecureBytes, keyID: UInt64) throws(SFrameError) {
        let material = try SFrameKeyMaterial(baseKey: baseKey, keyID: keyID, suite: suite)
        try state.withLock { (state) throws(SFrameError) in
            guard !state.usedKeyIDs.contains(keyID) else { throw .keyIDReused(keyID) }
            state.usedKeyIDs.insert(keyID)
            state.current = material
            state.nextCounter = 0
        }
    }

    /// The KID frames are encrypted under now, if a key is set.
    public var currentKeyID: UInt64? { state.withLock { $0.current?.keyID } }

    /// Drops the key (at hang-up); later `encrypt` calls fail with `.noSendKey`.
    public func removeKey() {
        state.withLock { $0.current = nil }
    }

    /// One SFrame ciphertext: header ‖ encrypted frame ‖ tag. `metadata` is authenticated
    /// but not sent; the receiver must pass the same bytes.
    public func encrypt(_ frame: [UInt8], metadata: [UInt8] = []) throws(SFrameError) -> [UInt8] {
        let (material, counter) = try state.withLock { (state) throws(SFrameError) -> (SFrameKeyMaterial, UInt64) in
            guard let current = state.current else { throw .noSendKey }
            guard let counter = state.nextCounter else { throw .counterExhausted(keyID: current.keyID) }
            state.nextCounter = counter == .max ? nil : counter + 1
            return (current, counter)
        }
        return material.seal(counter: counter, plaintext: frame, metadata: metadata)
    }

    /// Test hook: jumps the counter, so exhaustion can be tested without 2^64 frames.
    func skipCounter(to counter: UInt64) {
        state.withLock { $0.nextCounter = counter }
    }
}
