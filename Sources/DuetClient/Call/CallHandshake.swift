import DuetCrypto
import DuetWire
import Foundation

/// What the caller sends to ring: the X3DH header in the clear (the callee needs it to
/// derive the secret) and the offer sealed under a key only the callee can derive. The
/// signaling server forwards it without being able to read the offer.
public struct CallInvitation: Codable, Equatable, Sendable {
    public let callID: String
    public let callerNumber: String
    public let callerIdentityKey: Data
    public let ephemeralKey: Data
    public let signedPrekeyID: UInt32
    public let oneTimePrekeyID: UInt32?
    public let sealedOffer: Data
}

/// The sealed part of an invitation.
public struct CallOffer: Codable, Equatable, Sendable {
    public var callerNonce: Data
    /// The caller's commitment to the value its SAS mixes in, revealed in `confirm` (`SASCommitment`).
    public var sasCommitment: Data
    public var candidates: [Candidate]
    public var ssrc: UInt32
    /// True when the caller will only use the relay (`--relay`).
    public var relayOnly: Bool
    /// When the caller made the offer (unix seconds, its clock): an old offer delivered again
    /// does not ring (`InvitationReplayGuard`).
    public var sentAt: Double
    /// The caller writes this call's media keys to a file (DUET_SRTP_KEYLOG): the callee's
    /// screen says the call is not private too. An honest peer's notice, nothing more: a
    /// device can always leak its keys without saying so.
    public var logsKeys = false
    /// The caller takes video (on its audio SSRC + 1; docs/video.md): only then is video sent
    /// to it. Absent (false) from a device made before video, which would count video packets
    /// it cannot place as tampered.
    public var takesVideo = false
    /// Why each candidate the caller sent that could not be used was refused (never sent).
    public var refusedCandidates: [String] = []

    private enum CodingKeys: String, CodingKey {
        case callerNonce, sasCommitment, candidates, ssrc, relayOnly, sentAt, logsKeys, takesVideo
    }

    public init(
        callerNonce: Data, sasCommitment: Data, candidates: [Candidate], ssrc: UInt32, relayOnly: Bool,
        sentAt: Double = Date().timeIntervalSince1970
    ) {
        self.callerNonce = callerNonce
        self.sasCommitment = sasCommitment
        self.candidates = candidates
        self.ssrc = ssrc
        self.relayOnly = relayOnly
        self.sentAt = sentAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        callerNonce = try container.decode(Data.self, forKey: .callerNonce)
        sasCommitment = try container.decode(Data.self, forKey: .sasCommitment)
        (candidates, refusedCandidates) = try container.decode(PeerCandidates.self, forKey: .candidates).parts
        ssrc = try container.decode(UInt32.self, forKey: .ssrc)
        relayOnly = try container.decode(Bool.self, forKey: .relayOnly)
        sentAt = try container.decode(Double.self, forKey: .sentAt)
        logsKeys = try container.decodeIfPresent(Bool.self, forKey: .logsKeys) ?? false
        takesVideo = try container.decodeIfPresent(Bool.self, forKey: .takesVideo) ?? false
    }
}

/// The callee's sealed answer: its nonce (fresh keys even for a replayed offer), its ephemeral
/// public key (forward secrecy without a one-time prekey: `CallKeys`), its candidates and SSRC,
/// and its key confirmation.
public struct CallAnswer: Codable, Equatable, Sendable {
    public var calleeNonce: Data
    public var calleeEphemeralKey: Data
    public var candidates: [Candidate]
    public var ssrc: UInt32
    public var confirmation: Data
    /// The callee writes this call's media keys to a file (as `CallOffer.logsKeys`).
    public var logsKeys = false
    /// The callee takes video (as `CallOffer.takesVideo`).
    public var takesVideo = false
    /// Why each candidate the callee sent that could not be used was refused (never sent).
    public var refusedCandidates: [String] = []

    private enum CodingKeys: String, CodingKey {
        case calleeNonce, calleeEphemeralKey, candidates, ssrc, confirmation, logsKeys, takesVideo
    }

    public init(calleeNonce: Data, calleeEphemeralKey: Data, candidates: [Candidate], ssrc: UInt32, confirmation: Data) {
        self.calleeNonce = calleeNonce
        self.calleeEphemeralKey = calleeEphemeralKey
        self.candidates = candidates
        self.ssrc = ssrc
        self.confirmation = confirmation
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        calleeNonce = try container.decode(Data.self, forKey: .calleeNonce)
        calleeEphemeralKey = try container.decode(Data.self, forKey: .calleeEphemeralKey)
        (candidates, refusedCandidates) = try container.decode(PeerCandidates.self, forKey: .candidates).parts
        ssrc = try container.decode(UInt32.self, forKey: .ssrc)
        confirmation = try container.decode(Data.self, forKey: .confirmation)
        logsKeys = try container.decodeIfPresent(Bool.self, forKey: .logsKeys) ?? false
        takesVideo = try container.decodeIfPresent(Bool.self, forKey: .takesVideo) ?? false
    }
}

/// A peer's candidate list, decoded one candidate at a time: a malformed one is refused with
/// the reason and the rest are kept, so one bad entry cannot fail a call (docs/networking.md
/// "Candidates and checks"). At most `ConnectivityChecks.maximumRemoteCandidates` are read; the rest are skipped.
struct PeerCandidates: Decodable {
    var accepted: [Candidate] = []
    var refused: [String] = []
    var parts: ([Candidate], [String]) { (accepted, refused) }

    private struct Skipped: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    init(from decoder: any Decoder) throws {
        var list = try decoder.unkeyedContainer()
        while !list.isAtEnd {
            guard accepted.count + refused.count < ConnectivityChecks.maximumRemoteCandidates else {
                _ = try list.decode(Skipped.self)
                continue
            }
            do {
                accepted.append(try list.decode(Candidate.self))
            } catch {
                refused.append(Self.reason(error))
                _ = try list.decode(Skipped.self)  // a failed decode does not move the list on
            }
        }
    }

    /// Why a candidate was refused, fit to print: the text can quote what the peer sent, so
    /// control characters (a terminal escape, say) become "?" and it is cut at 200 characters.
    private static func reason(_ error: any Error) -> String {
        let text: String
        switch error as? DecodingError {
        case let .dataCorrupted(context)?, let .keyNotFound(_, context)?, let .typeMismatch(_, context)?, let .valueNotFound(_, context)?:
            text = context.debugDescription
        default:
            text = "\(error)"
        }
        let printable = text.unicodeScalars.prefix(200).map { $0.properties.generalCategory == .control ? "?" : Character($0) }
        return String(printable)
    }
}

/// Why a call could not be set up securely.
public enum CallHandshakeError: Error, Equatable, CustomStringConvertible {
    case malformedInvitation(String)
    case offerDoesNotOpen
    case answerDoesNotOpen
    case confirmationFailed
    case keyAgreement(X3DHError)
    /// An invitation for a call id this device was already rung for (`InvitationReplayGuard`).
    case replayedInvitation
    /// An offer made longer ago (or further ahead) than the guard allows, by the caller's clock.
    case staleInvitation(seconds: Int)

    public var description: String {
        switch self {
        case let .malformedInvitation(why): "the call invitation is malformed (\(why))"
        case .offerDoesNotOpen: "the call offer does not decrypt: it was not made for this device's keys or was altered"
        case .answerDoesNotOpen: "the call answer does not decrypt: it was altered or came from another device"
        case .confirmationFailed: "key confirmation failed: the two devices do not hold the same call key (possible interception)"
        case let .keyAgreement(error): "key agreement failed: \(error)"
        case .replayedInvitation: "the invitation was delivered before: a replay (the call rang once already)"
        case let .staleInvitation(seconds):
            "the invitation was made \(seconds) s from now by the caller's clock: a replay, or the two devices' clocks disagree by more than \(Int(InvitationReplayGuard.maximumAge)) s"
        }
    }
}

/// The 1:1 call's key exchange, as pure functions over the device store and X3DH.
public enum CallHandshake {
    /// Caller: runs X3DH against the callee's bundle and seals the offer.
    /// The caller keeps `ephemeral` (its X3DH ephemeral key pair) until the answer, for `callerKeys`.
    public static func invite(identity: IdentityKeyPair, callerNumber: String, bundle: PrekeyBundle, callID: String, offer: CallOffer)
        throws(CallHandshakeError) -> (
            invitation: CallInvitation, callSecret: SecureBytes, associatedData: [UInt8], ephemeral: X25519KeyPair
        )
    {
        let start: X3DH.Initiation, ephemeral = X25519KeyPair.generate()
        do { start = try X3DH.initiate(from: identity, to: bundle, ephemeral: ephemeral) } catch { throw .keyAgreement(error) }
        let ad = start.associatedData + Array(callID.utf8)
        let sealed = CallKeys.signalingKey(callSecret: start.sharedSecret, forOffer: true).seal(try encode(offer), associatedData: ad)
        let invitation = CallInvitation(
            callID: callID, callerNumber: callerNumber, callerIdentityKey: Data(identity.publicKey.rawRepresentation),
            ephemeralKey: Data(start.ephemeralKey.rawRepresentation), signedPrekeyID: start.signedPrekeyID,
            oneTimePrekeyID: start.oneTimePrekeyID, sealedOffer: Data(sealed))
        return (invitation, start.sharedSecret, start.associatedData, ephemeral)
    }

    /// Callee: the call's keys, under an ephemeral key pair made here and released on return —
    /// only its public half leaves, in the answer.
    public static func calleeKeys(
        callSecret: SecureBytes, invitation: CallInvitation, callerNonce: [UInt8],
        calleeNonce: [UInt8]
    ) throws(CallHandshakeError) -> (keys: CallKeys, ephemeralKey: X25519PublicKey) {
        let ephemeral = X25519KeyPair.generate()
        let shared: SecureBytes
        do { shared = try ephemeral.sharedSecret(with: try X25519PublicKey(rawRepresentation: [UInt8](invitation.ephemeralKey))) } catch {
            throw .malformedInvitation("the caller's ephemeral key: \(error)")
        }
        return (
            CallKeys(callSecret: callSecret, ephemeralSecret: shared, callerNonce: callerNonce, calleeNonce: calleeNonce),
            ephemeral.publicKey
        )
    }

    /// Caller: the call's keys from the answer and the ephemeral key pair `invite` made.
    public static func callerKeys(
        callSecret: SecureBytes, ephemeral: X25519KeyPair, answer: CallAnswer,
        callerNonce: [UInt8]
    ) throws(CallHandshakeError) -> CallKeys {
        let shared: SecureBytes
        do { shared = try ephemeral.sharedSecret(with: try X25519PublicKey(rawRepresentation: [UInt8](answer.calleeEphemeralKey))) } catch {
            throw .answerDoesNotOpen
        }
        return CallKeys(callSecret: callSecret, ephemeralSecret: shared, callerNonce: callerNonce, calleeNonce: [UInt8](answer.calleeNonce))
    }

    /// Callee: derives the secret with the prekeys the caller named and opens the offer.
    /// The one-time prekey is deleted in the same store transaction, and only if the offer
    /// opens: a forged invitation cannot burn prekeys, and a real one cannot be used twice.
    public static func accept(_ invitation: CallInvitation, store: DeviceStore) throws -> (
        offer: CallOffer, callSecret: SecureBytes, callerIdentity: IdentityPublicKey, associatedData: [UInt8]
    ) {
        let callerIdentity: IdentityPublicKey, ephemeral: X25519PublicKey
        do {
            callerIdentity = try IdentityPublicKey(rawRepresentation: [UInt8](invitation.callerIdentityKey))
            ephemeral = try X25519PublicKey(rawRepresentation: [UInt8](invitation.ephemeralKey))
        } catch {
            throw CallHandshakeError.malformedInvitation("\(error)")
        }
        let identity = try store.identity()
        let signedPrekey = try store.signedPrekey(id: invitation.signedPrekeyID)
        func respond(_ oneTime: OneTimePrekey?) throws -> (CallOffer, SecureBytes, [UInt8]) {
            let response: X3DH.Response
            do {
                response = try X3DH.respond(
                    identity: identity, signedPrekey: signedPrekey, oneTimePrekey: oneTime,
                    initiatorIdentity: callerIdentity, ephemeralKey: ephemeral)
            } catch { throw CallHandshakeError.keyAgreement(error) }
            let ad = response.associatedData + Array(invitation.callID.utf8)
            guard
                let plain = try? CallKeys.signalingKey(callSecret: response.sharedSecret, forOffer: true).open(
                    [UInt8](invitation.sealedOffer), associatedData: ad),
                let offer = try? JSONDecoder().decode(CallOffer.self, from: Data(plain))
            else {
                throw CallHandshakeError.offerDoesNotOpen
            }
            return (offer, response.sharedSecret, response.associatedData)
        }
        let (offer, secret, ad) =
            if let id = invitation.oneTimePrekeyID {
                try store.consumeOneTimePrekey(id: id) { try respond($0) }
            } else {
                try respond(nil)
            }
        return (offer, secret, callerIdentity, ad)
    }

    /// Callee: seals the answer under the answer key.
    public static func sealAnswer(_ answer: CallAnswer, callSecret: SecureBytes, associatedData: [UInt8], callID: String)
        throws(CallHandshakeError) -> Data
    {
        Data(
            CallKeys.signalingKey(callSecret: callSecret, forOffer: false).seal(
                try encode(answer), associatedData: associatedData + Array(callID.utf8)))
    }

    /// Caller: opens the answer.
    public static func openAnswer(_ sealed: Data, callSecret: SecureBytes, associatedData: [UInt8], callID: String)
        throws(CallHandshakeError) -> CallAnswer
    {
        guard
            let plain = try? CallKeys.signalingKey(callSecret: callSecret, forOffer: false).open(
                [UInt8](sealed), associatedData: associatedData + Array(callID.utf8)),
            let answer = try? JSONDecoder().decode(CallAnswer.self, from: Data(plain))
        else {
            throw .answerDoesNotOpen
        }
        return answer
    }

    private static func encode(_ value: some Encodable) throws(CallHandshakeError) -> [UInt8] {
        do { return Array(try JSONEncoder().encode(value)) } catch { throw .malformedInvitation("cannot encode: \(error)") }
    }
}
