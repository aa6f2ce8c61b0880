import Testing

@testable import DuetCrypto

@Suite("X3DH")
struct X3DHTests {
    struct Device {
        let identity = IdentityKeyPair.generate()
        let signedPrekey: SignedPrekey
        let oneTimePrekey = OneTimePrekey.generate(id: 7)
        init() { signedPrekey = .generate(id: 1, signedBy: identity) }
        func bundle(withOneTime: Bool) -> PrekeyBundle {
            PrekeyBundle(
                identityKey: identity.publicKey, signedPrekey: signedPrekey.publicPart,
                oneTimePrekey: withOneTime ? oneTimePrekey.publicPart : nil)
        }
    }

    @Test(arguments: [true, false])
    func bothSidesDeriveTheSameSecret(withOneTimePrekey: Bool) throws {
        let alice = Device(), bob = Device()
        let start = try X3DH.initiate(from: alice.identity, to: bob.bundle(withOneTime: withOneTimePrekey))
        #expect(start.oneTimePrekeyID == (withOneTimePrekey ? 7 : nil))
        #expect(start.signedPrekeyID == 1)
        let reply = try X3DH.respond(
            identity: bob.identity, signedPrekey: bob.signedPrekey,
            oneTimePrekey: withOneTimePrekey ? bob.oneTimePrekey : nil,
            initiatorIdentity: alice.identity.publicKey, ephemeralKey: start.ephemeralKey)
        #expect(start.sharedSecret.count == 32)
        #expect(start.sharedSecret.constantTimeEquals(reply.sharedSecret))
        #expect(start.associatedData == reply.associatedData)
        #expect(start.associatedData == alice.identity.publicKey.agreementKey.encoded + bob.identity.publicKey.agreementKey.encoded)
    }

    @Test func withAndWithoutOneTimePrekeyDiffer() throws {
        let alice = Device(), bob = Device()
        let eph = X25519KeyPair.generate()
        let with = try X3DH.initiate(from: alice.identity, to: bob.bundle(withOneTime: true), ephemeral: eph)
        let without = try X3DH.initiate(from: alice.identity, to: bob.bundle(withOneTime: false), ephemeral: eph)
        #expect(!with.sharedSecret.constantTimeEquals(without.sharedSecret))
    }

    @Test func aSwappedKeyOnEitherSideGivesADifferentSecret() throws {
        let alice = Device(), bob = Device(), mallory = Device()
        let start = try X3DH.initiate(from: alice.identity, to: bob.bundle(withOneTime: true))
        // Bob believes the call is from Mallory.
        let wrongInitiator = try X3DH.respond(
            identity: bob.identity, signedPrekey: bob.signedPrekey, oneTimePrekey: bob.oneTimePrekey,
            initiatorIdentity: mallory.identity.publicKey, ephemeralKey: start.ephemeralKey)
        #expect(!start.sharedSecret.constantTimeEquals(wrongInitiator.sharedSecret))
        // Bob answers with a different signed prekey or one-time prekey than Alice used.
        let wrongSPK = try X3DH.respond(
            identity: bob.identity, signedPrekey: mallory.signedPrekey, oneTimePrekey: bob.oneTimePrekey,
            initiatorIdentity: alice.identity.publicKey, ephemeralKey: start.ephemeralKey)
        #expect(!start.sharedSecret.constantTimeEquals(wrongSPK.sharedSecret))
        let wrongOPK = try X3DH.respond(
            identity: bob.identity, signedPrekey: bob.signedPrekey, oneTimePrekey: mallory.oneTimePrekey,
            initiatorIdentity: alice.identity.publicKey, ephemeralKey: start.ephemeralKey)
        #expect(!start.sharedSecret.constantTimeEquals(wrongOPK.sharedSecret))
        // Alice is handed a bundle in which Mallory's identity replaced Bob's (re-signed by Mallory).
        let forged = PrekeyBundle(
            identityKey: mallory.identity.publicKey, signedPrekey: mallory.signedPrekey.publicPart,
            oneTimePrekey: bob.oneTimePrekey.publicPart)
        let toMallory = try X3DH.initiate(from: alice.identity, to: forged)
        let bobView = try X3DH.respond(
            identity: bob.identity, signedPrekey: bob.signedPrekey, oneTimePrekey: bob.oneTimePrekey,
            initiatorIdentity: alice.identity.publicKey, ephemeralKey: toMallory.ephemeralKey)
        #expect(!toMallory.sharedSecret.constantTimeEquals(bobView.sharedSecret))
    }

    @Test func bundleWithABadSignatureIsRejected() throws {
        let alice = Device(), bob = Device(), mallory = Device()
        // Mallory's signed prekey presented under Bob's identity: the signature is not Bob's.
        let tampered = PrekeyBundle(identityKey: bob.identity.publicKey, signedPrekey: mallory.signedPrekey.publicPart, oneTimePrekey: nil)
        #expect(throws: X3DHError.badSignedPrekeySignature(prekeyID: 1)) { try X3DH.initiate(from: alice.identity, to: tampered) }
        // A flipped bit in the signature.
        var sig = bob.signedPrekey.signature
        sig[5] ^= 0x01
        let flipped = try SignedPrekeyPublic(
            id: 1, publicKey: bob.signedPrekey.keyPair.publicKey, createdAt: bob.signedPrekey.createdAt, signature: sig)
        #expect(throws: X3DHError.badSignedPrekeySignature(prekeyID: 1)) {
            try X3DH.initiate(
                from: alice.identity, to: PrekeyBundle(identityKey: bob.identity.publicKey, signedPrekey: flipped, oneTimePrekey: nil))
        }
    }

    @Test func weakEphemeralKeyIsRefusedByTheResponder() throws {
        let alice = Device(), bob = Device()
        #expect(throws: X3DHError.weakPublicKey) {
            try X3DH.respond(
                identity: bob.identity, signedPrekey: bob.signedPrekey, oneTimePrekey: nil,
                initiatorIdentity: alice.identity.publicKey,
                ephemeralKey: X25519PublicKey(rawRepresentation: [UInt8](repeating: 0, count: 32)))
        }
    }

    /// The worked example in x3dh-notes.txt (computed there with Python and libsodium) fixes
    /// the KDF: F = 0xFF×32, zero salt, info "MyProtocol".
    @Test func workedExampleKDF() throws {
        func pair(_ hex: String) throws -> X25519KeyPair { try X25519KeyPair(privateKey: SecureBytes(copying: [UInt8](hex: hex))) }
        let ika = try pair("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        let ikb = try pair("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
        let eka = try pair("a20d7a512560d729305fc4707bc288e3c50f0426155a13a3de7ffe7b740d24de")
        let spkb = try pair("fbf7a48c56e6427c6e92143cd637b5c3fe4815a214278a47072b83e746e4a0da")
        let opkb = try pair("dfa5de0f39fa144c4a21f6f231c035ecd4489ce1949169c5e58ab6ef2eebd808")
        let dh = [
            try ika.sharedSecret(with: spkb.publicKey), try eka.sharedSecret(with: ikb.publicKey),
            try eka.sharedSecret(with: spkb.publicKey), try eka.sharedSecret(with: opkb.publicKey)
        ]
        #expect(dh[0].withUnsafeBytes { Array($0) }.hex == "306bea379a12f3bd2005ad16c7589f3b521f497dcf80baaab4f16a6d2c7d9912")
        let info = Array("MyProtocol".utf8)
        #expect(
            X3DH.kdf(dh, info: info).withUnsafeBytes { Array($0) }.hex == "6867dfeb323aeca8f645dc4cdaf095ed0d2face20724b535d0b8eb6ba9f2fe58"
        )
        #expect(
            X3DH.kdf(Array(dh.prefix(3)), info: info).withUnsafeBytes { Array($0) }.hex
                == "d531c3a55bf124412cb2a5166cd440d2bae1659fabafdbb2d372b3cb09e7ea0c")
    }
}
