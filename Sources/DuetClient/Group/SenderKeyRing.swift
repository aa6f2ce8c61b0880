import DuetCrypto
import DuetMedia
import Foundation

/// Why a member makes a new sender key: the event log shows it with every rekey.
public enum RekeyCause: String, Codable, Sendable, Equatable {
    /// The first key of this device in the call.
    case joined
    /// Someone left the call or the group: they must not read what follows.
    case memberLeft = "member-left"
    /// Someone was added during the call: they must not read what came before.
    case memberAdded = "member-added"
    /// This device lost the server and joined the call again on a new leg: keys given before
    /// the break are not used again (the room may have changed while nobody could say).
    case rejoined
}

/// A sender key as it travels (sealed) to another member: the SFrame base key for one epoch.
public struct SenderKeyAnnouncement: Codable, Sendable, Equatable, CustomStringConvertible {
    public let keyID: UInt64
    public let epoch: UInt16
    public let cause: RekeyCause
    /// The 32-byte SFrame base key. Only inside a sealed pairwise message.
    public let baseKey: Data

    /// Never the key: descriptions end up in logs.
    public var description: String { "SenderKeyAnnouncement(kid \(keyID), epoch \(epoch), \(cause.rawValue))" }
}

/// Why a member's sender key was not installed.
public enum SenderKeyRingError: Error, Equatable, CustomStringConvertible {
    /// An epoch older than one already installed from the same member: a replay, since keys
    /// only move forward.
    case retiredKey(keyID: UInt64)

    public var description: String {
        switch self {
        case let .retiredKey(keyID): "sender key \(keyID) is older than one already held from the same member (a replay)"
        }
    }
}

/// One device's SFrame keys for one group call (docs/group-calls.md): its own sender key,
/// rotated to a new epoch when someone leaves or is added, and the keys the other members
/// sent it, one `SFrameReceiver` per member so an old epoch of one member retires (after
/// `overlap`) without touching the others. The KID carries a random per-call tag of this
/// device and the epoch, so KIDs of different members never collide.
public final class SenderKeyRing: @unchecked Sendable {
    // Guarded by `lock`: the call engine's tick and its signal handling may both touch it.
    private let lock = NSLock()
    public let tag: UInt32
    public let sender: SFrameSender
    private var receivers: [String: SFrameReceiver] = [:]
    /// The newest epoch installed for each member's tag, kept for the whole call (also after a
    /// member is removed): an older one is a retired key coming back, and is refused.
    private var newestEpochs: [String: [UInt32: UInt16]] = [:]
    private var pending: (epoch: UInt16, key: SecureBytes)?
    private var current: (epoch: UInt16, key: SecureBytes)?
    private let overlap: Duration

    /// `overlap`: how long a member's previous epoch stays usable after its new one is in use
    /// (at most 1 s, for packets in flight).
    public init(tag: UInt32 = .random(in: 1...UInt32.max), overlap: Duration = .seconds(1)) throws {
        self.tag = tag
        self.overlap = overlap
        sender = try SFrameSender()
    }

    /// KID = tag ‖ epoch (48 bits: SFrame encodes it in 6 bytes).
    public static func keyID(tag: UInt32, epoch: UInt16) -> UInt64 { UInt64(tag) << 16 | UInt64(epoch) }

    /// The epoch frames are sent under now (nil before the first key is active).
    public var epoch: UInt16? { lock.withLock { current?.epoch } }

    /// Makes the next epoch's key; send the announcement to every member, then `activate`.
    /// Until then frames keep going out under the current key, which every member has.
    public func rotate(cause: RekeyCause) -> SenderKeyAnnouncement {
        lock.withLock {
            let epoch = (pending?.epoch ?? current?.epoch).map { $0 &+ 1 } ?? 0
            let key = SecureBytes(randomCount: 32)
            pending = (epoch, key)
            return SenderKeyAnnouncement(
                keyID: Self.keyID(tag: tag, epoch: epoch), epoch: epoch, cause: cause,
                baseKey: key.withUnsafeBytes { Data($0) })
        }
    }

    /// Switches sending to the rotated key (once every member has it). The previous key is
    /// dropped at once: nobody needs it to decrypt what this device sends from now on.
    public func activate() throws {
        try lock.withLock {
            guard let next = pending else { return }
            try sender.setKey(next.key, keyID: Self.keyID(tag: tag, epoch: next.epoch))
            current = next
            pending = nil
        }
    }

    /// The announcement of the key in use, for a member who joins without a rekey (rung
    /// members receive it before they answer).
    public var currentAnnouncement: SenderKeyAnnouncement? {
        lock.withLock {
            current.map {
                SenderKeyAnnouncement(
                    keyID: Self.keyID(tag: tag, epoch: $0.epoch), epoch: $0.epoch, cause: .joined,
                    baseKey: $0.key.withUnsafeBytes { Data($0) })
            }
        }
    }

    /// Holds `member`'s key. The base key is copied into secure memory and the caller's
    /// `Data` is the announcement's; drop the announcement soon after.
    public func install(_ announcement: SenderKeyAnnouncement, from member: String) throws {
        guard announcement.baseKey.count == 32 else {
            throw KeyError.wrongLength(what: "sender key", expected: 32, actual: announcement.baseKey.count)
        }
        let key = SecureBytes(copying: announcement.baseKey)
        let tag = UInt32(truncatingIfNeeded: announcement.keyID >> 16), epoch = UInt16(truncatingIfNeeded: announcement.keyID)
        try lock.withLock {
            if let newest = newestEpochs[member]?[tag], epoch < newest { throw SenderKeyRingError.retiredKey(keyID: announcement.keyID) }
            let receiver = try receivers[member] ?? SFrameReceiver(overlap: overlap)
            try receiver.addKey(key, keyID: announcement.keyID)
            receivers[member] = receiver
            newestEpochs[member, default: [:]][tag] = epoch
        }
    }

    /// Encrypts one frame of this device's audio under the active key.
    public func encrypt(_ frame: [UInt8]) throws -> [UInt8] {
        try sender.encrypt(frame)
    }

    /// Decrypts a frame from `member` (the SFU says which member an SSRC belongs to; the KID
    /// must be one that member sent us, so the server cannot pass one member off as another).
    public func decrypt(_ frame: [UInt8], from member: String, now: ContinuousClock.Instant = .now) throws -> SFramePlaintext {
        guard let receiver = lock.withLock({ receivers[member] }) else { throw SFrameError.unknownKeyID(0) }
        return try receiver.decrypt(frame, now: now)
    }

    /// The keys `member`'s frames open with (their video's receiver shares them with their
    /// audio: one SFrame counter space per sender key, one replay window per KID).
    public func receiver(of member: String) -> SFrameReceiver? {
        lock.withLock { receivers[member] }
    }

    /// Forgets a member who left (their keys are wiped as they are released).
    public func remove(member: String) {
        lock.withLock {
            receivers[member]?.removeAllKeys()
            receivers[member] = nil
        }
    }

    /// At hang-up: every key, ours and theirs, released and zeroed.
    public func wipe() {
        lock.withLock {
            sender.removeKey()
            for receiver in receivers.values { receiver.removeAllKeys() }
            receivers = [:]
            newestEpochs = [:]
            pending = nil
            current = nil
        }
    }

    /// Test hook: our own key objects, to check they are released by `wipe`.
    var ownKeyHolders: [any AnyObject & Sendable] { lock.withLock { [pending?.key, current?.key].compactMap { $0 } } }
}
