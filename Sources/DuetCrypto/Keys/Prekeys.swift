import Foundation

/// The public half of a signed prekey, as published on the server and handed out in bundles.
public struct SignedPrekeyPublic: Hashable, Sendable {
    public let id: UInt32
    public let publicKey: X25519PublicKey
    public let createdAt: Date
    /// Ed25519 signature by the identity key over Encode(SPK) = 0x05 ‖ u (X3DH §3.2).
    public let signature: [UInt8]

    public init(id: UInt32, publicKey: X25519PublicKey, createdAt: Date, signature: [UInt8]) throws(KeyError) {
        try checkLength(signature.count, 64, "signed prekey signature")
        self.id = id
        self.publicKey = publicKey
        self.createdAt = createdAt
        self.signature = signature
    }

    /// Throws unless `identity` signed this prekey.
    public func verify(signedBy identity: IdentityPublicKey) throws(KeyError) {
        guard identity.isValidSignature(signature, for: publicKey.encoded) else {
            throw .badSignedPrekeySignature(prekeyID: id)
        }
    }
}

/// A medium-term X25519 prekey, signed by the identity key; rotated weekly (docs/SECURITY.md "Your device").
public struct SignedPrekey: Sendable {
    public let id: UInt32
    public let keyPair: X25519KeyPair
    public let createdAt: Date
    public let signature: [UInt8]

    /// Restores a stored prekey.
    public init(id: UInt32, keyPair: X25519KeyPair, createdAt: Date, signature: [UInt8]) throws(KeyError) {
        try checkLength(signature.count, 64, "signed prekey signature")
        self.id = id
        self.keyPair = keyPair
        self.createdAt = createdAt
        self.signature = signature
    }

    /// A fresh prekey signed by `identity`.
    public static func generate(id: UInt32, signedBy identity: IdentityKeyPair, at now: Date = Date()) -> SignedPrekey {
        let pair = X25519KeyPair.generate()
        // Whole seconds, so what is stored and published round-trips exactly.
        let created = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        return try! SignedPrekey(id: id, keyPair: pair, createdAt: created, signature: identity.signature(for: pair.publicKey.encoded))
    }

    public var publicPart: SignedPrekeyPublic {
        try! SignedPrekeyPublic(id: id, publicKey: keyPair.publicKey, createdAt: createdAt, signature: signature)
    }
}

/// The public half of a one-time prekey. Unsigned, as in X3DH.
public struct OneTimePrekeyPublic: Hashable, Sendable {
    public let id: UInt32
    public let publicKey: X25519PublicKey

    public init(id: UInt32, publicKey: X25519PublicKey) {
        self.id = id
        self.publicKey = publicKey
    }
}

/// A one-time X25519 prekey: its private half is deleted from the device the moment a call
/// uses it, its public half is handed out by the server once.
public struct OneTimePrekey: Sendable {
    public let id: UInt32
    public let keyPair: X25519KeyPair

    public init(id: UInt32, keyPair: X25519KeyPair) {
        self.id = id
        self.keyPair = keyPair
    }

    public static func generate(id: UInt32) -> OneTimePrekey {
        OneTimePrekey(id: id, keyPair: .generate())
    }

    public var publicPart: OneTimePrekeyPublic { OneTimePrekeyPublic(id: id, publicKey: keyPair.publicKey) }
}

/// What a caller fetches from the server to start X3DH with a device: public keys only.
public struct PrekeyBundle: Hashable, Sendable {
    public let identityKey: IdentityPublicKey
    public let signedPrekey: SignedPrekeyPublic
    /// Absent when the device's one-time prekeys on the server have run out.
    public let oneTimePrekey: OneTimePrekeyPublic?

    public init(identityKey: IdentityPublicKey, signedPrekey: SignedPrekeyPublic, oneTimePrekey: OneTimePrekeyPublic?) {
        self.identityKey = identityKey
        self.signedPrekey = signedPrekey
        self.oneTimePrekey = oneTimePrekey
    }
}
