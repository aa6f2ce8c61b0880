import DuetCrypto
import DuetWire
import Foundation

/// Checks uploaded key material before it reaches the database: a bundle the server hands
/// out must at least be well-formed and carry a signed prekey its identity key really signed.
enum PrekeyValidation {
    static func identityKey(_ bytes: [UInt8]) throws(DirectoryError) -> IdentityPublicKey {
        do { return try IdentityPublicKey(rawRepresentation: bytes) } catch {
            throw .invalidKey("identity key refused: \(error)")
        }
    }

    static func check(_ spk: Signaling.SignedPrekey, signedBy identity: IdentityPublicKey) throws(DirectoryError) {
        do {
            let key = try SignedPrekeyPublic(
                id: spk.id,
                publicKey: X25519PublicKey(rawRepresentation: spk.publicKey.bytes),
                createdAt: Date(timeIntervalSince1970: TimeInterval(spk.createdAt)),
                signature: spk.signature.bytes)
            try key.verify(signedBy: identity)
        } catch {
            throw .invalidKey("signed prekey refused: \(error)")
        }
    }

    static func check(_ opks: [Signaling.OneTimePrekey]) throws(DirectoryError) {
        guard opks.count <= Directory.maximumPrekeysPerUpload else { throw .tooManyPrekeys(opks.count) }
        for opk in opks where opk.publicKey.bytes.count != X25519PublicKey.byteCount {
            throw .invalidKey("one-time prekey \(opk.id) must be \(X25519PublicKey.byteCount) bytes, got \(opk.publicKey.bytes.count)")
        }
        guard Set(opks.map(\.id)).count == opks.count else {
            throw .invalidKey("one-time prekey ids repeat within one upload; each id must be unique")
        }
    }

    static func check(number: String) throws(DirectoryError) {
        guard PhoneNumber.isValid(number) else { throw .invalidNumber(number) }
    }
}
