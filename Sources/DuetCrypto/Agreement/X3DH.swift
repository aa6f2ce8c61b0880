/// Why an X3DH run was aborted.
public enum X3DHError: Error, Equatable, CustomStringConvertible {
    /// The bundle's signed prekey is not signed by the bundle's identity key.
    case badSignedPrekeySignature(prekeyID: UInt32)
    /// A public key in the exchange was a small-order point.
    case weakPublicKey
    /// The responder no longer holds the prekey the initiator named (rotated, or already used).
    case unknownPrekey(id: UInt32)

    public var description: String {
        switch self {
        case let .badSignedPrekeySignature(id):
            KeyError.badSignedPrekeySignature(prekeyID: id).description
        case .weakPublicKey:
            KeyError.weakPublicKey.description
        case let .unknownPrekey(id):
            "prekey \(id) is not on this device any more (rotated or already used); the caller should fetch a fresh bundle"
        }
    }

    init(_ error: KeyError) {
        switch error {
        case let .badSignedPrekeySignature(id): self = .badSignedPrekeySignature(prekeyID: id)
        default: self = .weakPublicKey
        }
    }
}

/// Signal's X3DH key agreement (docs/ARCHITECTURE.md "X3DH"): curve X25519, hash SHA-256, Duet's info string.
///
///     DH1 = DH(IKa, SPKb)  DH2 = DH(EKa, IKb)  DH3 = DH(EKa, SPKb)  [DH4 = DH(EKa, OPKb)]
///     SK  = HKDF-SHA256(salt = 0×32, IKM = 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4], info)
///     AD  = Encode(IKa) ‖ Encode(IKb)
public enum X3DH {
    /// The application's HKDF info string.
    public static let info: [UInt8] = Array("Duet X3DH v1".utf8)

    /// What the initiator ends with and what it must tell the responder.
    public struct Initiation: Sendable {
        /// SK: the 32-byte secret both sides now share. Zeroed when released.
        public let sharedSecret: SecureBytes
        /// EKa's public key, sent to the responder.
        public let ephemeralKey: X25519PublicKey
        public let signedPrekeyID: UInt32
        public let oneTimePrekeyID: UInt32?
        public let associatedData: [UInt8]
    }

    /// The initiator's side: verifies the SPK signature before any DH, then derives SK.
    /// The ephemeral private key lives only inside this call.
    public static func initiate(from identity: IdentityKeyPair, to bundle: PrekeyBundle, ephemeral: X25519KeyPair = .generate())
        throws(X3DHError) -> Initiation
    {
        do {
            try bundle.signedPrekey.verify(signedBy: bundle.identityKey)
            var dh = [
                try identity.agreementKeyPair.sharedSecret(with: bundle.signedPrekey.publicKey),
                try ephemeral.sharedSecret(with: bundle.identityKey.agreementKey),
                try ephemeral.sharedSecret(with: bundle.signedPrekey.publicKey)
            ]
            if let opk = bundle.oneTimePrekey {
                dh.append(try ephemeral.sharedSecret(with: opk.publicKey))
            }
            return Initiation(
                sharedSecret: kdf(dh, info: info),
                ephemeralKey: ephemeral.publicKey,
                signedPrekeyID: bundle.signedPrekey.id,
                oneTimePrekeyID: bundle.oneTimePrekey?.id,
                associatedData: associatedData(initiator: identity.publicKey, responder: bundle.identityKey))
        } catch {
            throw X3DHError(error)
        }
    }

    /// What the responder ends with.
    public struct Response: Sendable {
        public let sharedSecret: SecureBytes
        public let associatedData: [UInt8]
    }

    /// The responder's side, with the private prekeys the initiator named. The caller
    /// deletes the used one-time prekey from its store (DeviceStore does so atomically).
    public static func respond(
        identity: IdentityKeyPair, signedPrekey: SignedPrekey, oneTimePrekey: OneTimePrekey?, initiatorIdentity: IdentityPublicKey,
        ephemeralKey: X25519PublicKey
    ) throws(X3DHError) -> Response {
        do {
            var dh = [
                try signedPrekey.keyPair.sharedSecret(with: initiatorIdentity.agreementKey),
                try identity.agreementKeyPair.sharedSecret(with: ephemeralKey),
                try signedPrekey.keyPair.sharedSecret(with: ephemeralKey)
            ]
            if let opk = oneTimePrekey {
                dh.append(try opk.keyPair.sharedSecret(with: ephemeralKey))
            }
            return Response(
                sharedSecret: kdf(dh, info: info),
                associatedData: associatedData(initiator: initiatorIdentity, responder: identity.publicKey))
        } catch {
            throw X3DHError(error)
        }
    }

    /// AD = Encode(IKa) ‖ Encode(IKb), over the identity keys' X25519 forms.
    static func associatedData(initiator: IdentityPublicKey, responder: IdentityPublicKey) -> [UInt8] {
        initiator.agreementKey.encoded + responder.agreementKey.encoded
    }

    /// KDF(KM) of X3DH §2.2: the DH outputs are concatenated in secure memory and released
    /// (zeroed) as soon as SK exists.
    static func kdf(_ dhOutputs: [SecureBytes], info: [UInt8]) -> SecureBytes {
        let total = 32 + dhOutputs.reduce(0) { $0 + $1.count }
        let ikm = SecureBytes(count: total) { out in
            var offset = 32
            out.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0xFF, count: 32)
            for dh in dhOutputs {
                dh.withUnsafeBytes { (out.baseAddress! + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                offset += dh.count
            }
        }
        return HKDF.deriveKey(.sha256, inputKeyMaterial: ikm, salt: [UInt8](repeating: 0, count: 32), info: info, count: 32)
    }
}
