import DuetCrypto
import DuetWire
import Foundation

extension SignedPrekeyPublic {
    var wire: Signaling.SignedPrekey {
        .init(
            id: id, publicKey: Base64Bytes(publicKey.rawRepresentation),
            createdAt: Int64(createdAt.timeIntervalSince1970.rounded(.down)), signature: Base64Bytes(signature))
    }

    init(wire: Signaling.SignedPrekey) throws(KeyError) {
        try self.init(
            id: wire.id, publicKey: X25519PublicKey(rawRepresentation: wire.publicKey.bytes),
            createdAt: Date(timeIntervalSince1970: TimeInterval(wire.createdAt)), signature: wire.signature.bytes)
    }
}

extension OneTimePrekeyPublic {
    var wire: Signaling.OneTimePrekey { .init(id: id, publicKey: Base64Bytes(publicKey.rawRepresentation)) }
}

extension PrekeyBundle {
    /// A bundle from the server, refused unless its signed prekey is signed by its identity key.
    init(wire: Signaling.Bundle) throws(KeyError) {
        let identity = try IdentityPublicKey(rawRepresentation: wire.identityKey.bytes)
        let spk = try SignedPrekeyPublic(wire: wire.signedPrekey)
        try spk.verify(signedBy: identity)
        let opk = try wire.oneTimePrekey.map { (o) throws(KeyError) in
            OneTimePrekeyPublic(id: o.id, publicKey: try X25519PublicKey(rawRepresentation: o.publicKey.bytes))
        }
        self.init(identityKey: identity, signedPrekey: spk, oneTimePrekey: opk)
    }
}
