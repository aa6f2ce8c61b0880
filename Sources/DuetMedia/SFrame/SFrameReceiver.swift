import DuetCrypto
import Synchronization

/// Decrypts one remote sender's SFrame frames, choosing the key by the header's KID.
///
/// Keep one receiver per remote sender (per SSRC): after a rekey the sender's old KID stays
/// usable for `overlap` after the first frame under a newer key decrypts, so frames already
/// in flight still play, and is then dropped. Keys can be added before the sender starts
/// using them. Each KID keeps a replay window (see `SFrameReplayWindow`).
public final class SFrameReceiver: Sendable {
    public let suite: SFrameCipherSuite
    /// How long an older key stays usable once a newer one is in use.
    public let overlap: Duration

    private struct Entry: Sendable {
        var material: SFrameKeyMaterial
        /// Order of addition: a larger number is a newer key.
        var generation: UInt64
        var window = SFrameReplayWindow()
        var inUse = false
        var expires: ContinuousClock.Instant?
    }

    private struct State: Sendable {
        var keys: [UInt64: Entry] = [:]
        var nextGeneration: UInt64 = 0
    }

    private let state = Mutex(State())

    public init(suite: SFrameCipherSuite = .aes256GCMSHA512_128, overlap: Duration = .seconds(2)) throws(SFrameError) {
        guard suite.isAvailable else { throw .cipherSuiteUnavailable(suite) }
        self.suite = suite
        self.overlap = overlap
    }

    /// Holds a sender key for `keyID`. Adding the same key again is harmless; a different
    /// key under a KID already held is refused, since it would reset that KID's replay window.
    public func addKey(_ baseKey: SecureBytes, keyID: UInt64) throws(SFrameError) {
        let material = try SFrameKeyMaterial(baseKey: baseKey, keyID: keyID, suite: suite)
        try state.withLock { (state) throws(SFrameError) in
            if let existing = state.keys[keyID] {
                guard existing.material.sameKey(as: material) else { throw .keyIDReused(keyID) }
                return
            }
            state.keys[keyID] = Entry(material: material, generation: state.nextGeneration)
            state.nextGeneration += 1
        }
    }

    /// Forgets one key now.
    public func removeKey(keyID: UInt64) {
        _ = state.withLock { $0.keys.removeValue(forKey: keyID) }
    }

    /// Forgets every key (at hang-up); the key material is wiped as it is released.
    public func removeAllKeys() {
        state.withLock { $0.keys.removeAll() }
    }

    /// KIDs currently held, oldest first.
    public var keyIDs: [UInt64] {
        state.withLock { $0.keys.values.sorted { $0.generation < $1.generation }.map(\.material.keyID) }
    }

    /// Decrypts one SFrame ciphertext. `now` decides which superseded keys have expired;
    /// tests pass explicit instants.
    public func decrypt(_ frame: [UInt8], metadata: [UInt8] = [], now: ContinuousClock.Instant = .now) throws(SFrameError)
        -> SFramePlaintext
    {
        try frame.withUnsafeBytes { bytes in
            Result { () throws(SFrameError) in try decrypt(bytes, metadata: metadata, now: now) }
        }.get()
    }

    private func decrypt(_ frame: UnsafeRawBufferPointer, metadata: [UInt8], now: ContinuousClock.Instant) throws(SFrameError)
        -> SFramePlaintext
    {
        let (header, headerLength) = try SFrameHeader.decode(frame)
        let minimum = headerLength + suite.tagLength
        guard frame.count >= minimum else { throw .ciphertextTooShort(length: frame.count, minimum: minimum) }
        let material = try state.withLock { (state) throws(SFrameError) -> SFrameKeyMaterial in
            state.keys = state.keys.filter { $0.value.expires.map { now < $0 } ?? true }
            guard let entry = state.keys[header.keyID] else { throw .unknownKeyID(header.keyID) }
            switch entry.window.check(header.counter) {
            case .fresh: return entry.material
            case .replayed: throw .replay(keyID: header.keyID, counter: header.counter, tooOld: false)
            case .tooOld: throw .replay(keyID: header.keyID, counter: header.counter, tooOld: true)
            }
        }
        let plaintext = try material.open(frame, headerLength: headerLength, counter: header.counter, metadata: metadata)
        try state.withLock { (state) throws(SFrameError) in
            guard var entry = state.keys[header.keyID] else { throw .unknownKeyID(header.keyID) }
            // Another thread may have accepted the same counter while this one decrypted.
            guard entry.window.check(header.counter) == .fresh else {
                throw .replay(keyID: header.keyID, counter: header.counter, tooOld: false)
            }
            entry.window.accept(header.counter)
            if !entry.inUse {
                entry.inUse = true
                let expires = now + overlap
                for (kid, older) in state.keys where older.generation < entry.generation && older.expires == nil {
                    state.keys[kid]?.expires = expires
                }
            }
            state.keys[header.keyID] = entry
        }
        return SFramePlaintext(header: header, payload: plaintext)
    }
}

/// A decrypted frame and the header it came with (the KID tells the UI the key epoch).
public struct SFramePlaintext: Equatable, Sendable {
    public let header: SFrameHeader
    public let payload: [UInt8]
}
