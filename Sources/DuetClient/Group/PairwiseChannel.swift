import DuetCrypto
import Foundation
import Synchronization

/// The X3DH header that opens a pairwise channel: who sends, and which of the recipient's
/// prekeys the sender used. Sent in the clear with the channel's first message.
public struct PairwiseChannelHeader: Codable, Equatable, Sendable {
    public let senderIdentityKey: Data
    public let ephemeralKey: Data
    public let signedPrekeyID: UInt32
    public let oneTimePrekeyID: UInt32?
}

/// One sealed message on a pairwise channel. `counter` orders messages and makes every
/// nonce's associated data distinct; a receiver accepts each counter once, in increasing order.
public struct PairwiseMessage: Codable, Equatable, Sendable {
    public let counter: UInt64
    public let ciphertext: Data
}

/// Why a pairwise message was refused.
public enum PairwiseChannelError: Error, Equatable, CustomStringConvertible {
    case malformedHeader(String)
    case keyAgreement(String)
    /// Wrong key, tampered, or meant for another call or device.
    case doesNotOpen
    /// A counter at or below the last one accepted: a replay or a reordering attack.
    case replayed(counter: UInt64)
    /// A channel header already accepted in this call: its first message sent again.
    case replayedHeader

    public var description: String {
        switch self {
        case let .malformedHeader(reason): "the sender-key channel's header is malformed: \(reason)"
        case let .keyAgreement(reason): "the sender-key channel's key agreement failed: \(reason)"
        case .doesNotOpen: "a sender-key message did not authenticate (tampered, or not for this device and call)"
        case let .replayed(counter): "a sender-key message was replayed (counter \(counter))"
        case .replayedHeader: "a sender-key channel's first message was replayed (its header was accepted before in this call)"
        }
    }
}

/// The sending end of a one-way channel from this device to one other member, for one group
/// call (docs/group-calls.md): X3DH against the member's prekey bundle once, then every sender
/// key this device makes in the call is sealed under the same channel key with a fresh
/// counter. The server forwards the blobs and cannot read them.
public final class PairwiseSender: Sendable {
    public let header: PairwiseChannelHeader
    private let key: AEADKey
    private let associatedData: [UInt8]
    private let counter = Mutex<UInt64>(0)

    public init(identity: IdentityKeyPair, to bundle: PrekeyBundle, callID: String) throws(PairwiseChannelError) {
        let start: X3DH.Initiation
        do { start = try X3DH.initiate(from: identity, to: bundle) } catch { throw .keyAgreement("\(error)") }
        header = PairwiseChannelHeader(
            senderIdentityKey: Data(identity.publicKey.rawRepresentation),
            ephemeralKey: Data(start.ephemeralKey.rawRepresentation),
            signedPrekeyID: start.signedPrekeyID, oneTimePrekeyID: start.oneTimePrekeyID)
        key = Self.channelKey(start.sharedSecret, callID: callID)
        associatedData = start.associatedData + Array(callID.utf8)
    }

    /// Seals the next message.
    public func seal(_ plaintext: [UInt8]) -> PairwiseMessage {
        let next = counter.withLock { value -> UInt64 in
            value += 1
            return value
        }
        return PairwiseMessage(counter: next, ciphertext: Data(key.seal(plaintext, associatedData: associatedData + Self.bigEndian(next))))
    }

    static func channelKey(_ secret: SecureBytes, callID: String) -> AEADKey {
        AEADKey.derived(.sha256, inputKeyMaterial: secret, salt: Array(callID.utf8), info: Array("Duet group pairwise v1".utf8))
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}

/// The receiving end: made from the header and the channel's first message together, so the
/// one-time prekey it names is deleted only if that message opens (a forged header cannot
/// burn prekeys, and a real one cannot be used twice).
public final class PairwiseReceiver: Sendable {
    public let senderIdentity: IdentityPublicKey
    private let key: AEADKey
    private let associatedData: [UInt8]
    private let lastCounter = Mutex<UInt64>(0)

    /// Accepts a channel and opens its first message.
    public static func accept(
        _ header: PairwiseChannelHeader, firstMessage: PairwiseMessage, store: DeviceStore,
        callID: String
    ) throws -> (receiver: PairwiseReceiver, plaintext: [UInt8]) {
        let senderIdentity: IdentityPublicKey, ephemeral: X25519PublicKey
        do {
            senderIdentity = try IdentityPublicKey(rawRepresentation: [UInt8](header.senderIdentityKey))
            ephemeral = try X25519PublicKey(rawRepresentation: [UInt8](header.ephemeralKey))
        } catch {
            throw PairwiseChannelError.malformedHeader("\(error)")
        }
        let identity = try store.identity()
        let signedPrekey = try store.signedPrekey(id: header.signedPrekeyID)
        func open(_ oneTime: OneTimePrekey?) throws -> (PairwiseReceiver, [UInt8]) {
            let response: X3DH.Response
            do {
                response = try X3DH.respond(
                    identity: identity, signedPrekey: signedPrekey, oneTimePrekey: oneTime,
                    initiatorIdentity: senderIdentity, ephemeralKey: ephemeral)
            } catch { throw PairwiseChannelError.keyAgreement("\(error)") }
            let receiver = PairwiseReceiver(
                senderIdentity: senderIdentity, key: PairwiseSender.channelKey(response.sharedSecret, callID: callID),
                associatedData: response.associatedData + Array(callID.utf8))
            return (receiver, try receiver.open(firstMessage))
        }
        if let id = header.oneTimePrekeyID {
            return try store.consumeOneTimePrekey(id: id) { try open($0) }
        }
        return try open(nil)
    }

    private init(senderIdentity: IdentityPublicKey, key: AEADKey, associatedData: [UInt8]) {
        self.senderIdentity = senderIdentity
        self.key = key
        self.associatedData = associatedData
    }

    /// Opens a later message; each counter once, increasing.
    public func open(_ message: PairwiseMessage) throws(PairwiseChannelError) -> [UInt8] {
        guard message.counter > lastCounter.withLock({ $0 }) else { throw .replayed(counter: message.counter) }
        let plain: [UInt8]
        do {
            plain = try key.open([UInt8](message.ciphertext), associatedData: associatedData + PairwiseSender.bigEndian(message.counter))
        } catch {
            throw .doesNotOpen
        }
        try lastCounter.withLock { (last) throws(PairwiseChannelError) in
            guard message.counter > last else { throw .replayed(counter: message.counter) }
            last = message.counter
        }
        return plain
    }
}
