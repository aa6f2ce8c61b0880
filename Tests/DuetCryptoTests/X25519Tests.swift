import Testing

@testable import DuetCrypto

@Suite("X25519 (RFC 7748)")
struct X25519Tests {
    /// (scalar, u, output) triples of RFC 7748 §5.2, read from the vector file.
    static func section52() throws -> [([UInt8], [UInt8], [UInt8])] {
        let lines = try VectorFile.text("x25519-rfc7748.txt").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        var result: [([UInt8], [UInt8], [UInt8])] = []
        var i = 0
        while i < lines.count {
            if lines[i] == "Input scalar:", let uIndex = lines[i...].firstIndex(of: "Input u-coordinate:"),
                let outIndex = lines[uIndex...].firstIndex(of: "Output u-coordinate:")
            {
                result.append((.init(hex: lines[i + 1]), .init(hex: lines[uIndex + 1]), .init(hex: lines[outIndex + 1])))
                i = outIndex
            }
            i += 1
        }
        return result
    }

    @Test func section52Vectors() throws {
        let vectors = try Self.section52()
        #expect(vectors.count == 2)
        for (scalar, u, output) in vectors {
            let pair = try X25519KeyPair(privateKey: SecureBytes(copying: scalar))
            let shared = try pair.sharedSecret(with: X25519PublicKey(rawRepresentation: u))
            #expect(shared.withUnsafeBytes { Array($0) } == output)
        }
    }

    @Test func section61DiffieHellman() throws {
        let a = try X25519KeyPair(
            privateKey: SecureBytes(copying: [UInt8](hex: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")))
        let b = try X25519KeyPair(
            privateKey: SecureBytes(copying: [UInt8](hex: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")))
        #expect(a.publicKey.rawRepresentation.hex == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        #expect(b.publicKey.rawRepresentation.hex == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        let k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
        #expect(try a.sharedSecret(with: b.publicKey).withUnsafeBytes { Array($0) }.hex == k)
        #expect(try b.sharedSecret(with: a.publicKey).withUnsafeBytes { Array($0) }.hex == k)
    }

    @Test func iteratedThousandTimes() throws {
        var k = [UInt8](repeating: 0, count: 32)
        k[0] = 9
        var u = k
        for _ in 0..<1000 {
            let next = try X25519KeyPair(privateKey: SecureBytes(copying: k)).sharedSecret(with: X25519PublicKey(rawRepresentation: u))
                .withUnsafeBytes { Array($0) }
            u = k
            k = next
        }
        #expect(k.hex == "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    }

    @Test func smallOrderPointIsRefused() throws {
        let pair = X25519KeyPair.generate()
        var one = [UInt8](repeating: 0, count: 32)
        one[0] = 1
        for point in [[UInt8](repeating: 0, count: 32), one] {
            #expect(throws: KeyError.weakPublicKey) { try pair.sharedSecret(with: X25519PublicKey(rawRepresentation: point)) }
        }
    }

    @Test func wrongLengthsAreRefused() {
        #expect(throws: KeyError.wrongLength(what: "X25519 public key", expected: 32, actual: 31)) {
            try X25519PublicKey(rawRepresentation: [UInt8](repeating: 1, count: 31))
        }
        #expect(throws: KeyError.self) { try X25519KeyPair(privateKey: SecureBytes(randomCount: 16)) }
    }

    @Test func identityKeyConvertsToTheRFC8032TestOneX25519Form() throws {
        let identity = try IdentityKeyPair(
            seed: SecureBytes(copying: [UInt8](hex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")))
        #expect(identity.publicKey.rawRepresentation.hex == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        #expect(identity.publicKey.agreementKey.rawRepresentation.hex == "d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e")
        #expect(
            identity.agreementKeyPair.privateKey.withUnsafeBytes { Array($0) }.hex
                == "307c83864f2833cb427a2ef1c00a013cfdff2768d980c0a3a520f006904de94f")
        #expect(identity.agreementKeyPair.publicKey == identity.publicKey.agreementKey)
    }

    @Test func identitySignaturesVerifyOnlyForTheirMessageAndKey() {
        let alice = IdentityKeyPair.generate(), bob = IdentityKeyPair.generate()
        let sig = alice.signature(for: Array("hello".utf8))
        #expect(alice.publicKey.isValidSignature(sig, for: Array("hello".utf8)))
        #expect(!alice.publicKey.isValidSignature(sig, for: Array("hellp".utf8)))
        #expect(!bob.publicKey.isValidSignature(sig, for: Array("hello".utf8)))
        #expect(!alice.publicKey.isValidSignature(Array(sig.dropLast()), for: Array("hello".utf8)))
    }

    @Test func invalidEd25519PointIsRefused() {
        // y = 1 is the neutral element: a small-order point libsodium refuses to convert.
        var bad = [UInt8](repeating: 0, count: 32)
        bad[0] = 1
        #expect(throws: KeyError.invalidIdentityKey) { try IdentityPublicKey(rawRepresentation: bad) }
        // Refused again, not remembered as if it were good (`AgreementKeyCache` keeps valid keys only).
        #expect(throws: KeyError.invalidIdentityKey) { try IdentityPublicKey(rawRepresentation: bad) }
    }

    /// A key checked once is not converted again (the conversion runs once), gives the same
    /// X25519 form, and the cache stays within its bound however many keys pass through it.
    @Test func checkedIdentityKeysAreRememberedWithinABound() throws {
        let identity = IdentityKeyPair.generate()
        let raw = identity.publicKey.rawRepresentation
        var conversions = 0
        let fresh = [UInt8](repeating: 0x42, count: 32)
        _ = AgreementKeyCache.agreementKey(for: raw + [1]) { _ in
            conversions += 1
            return fresh
        }
        let remembered = AgreementKeyCache.agreementKey(for: raw + [1]) { _ in
            conversions += 1
            return nil
        }
        #expect(conversions == 1)
        #expect(remembered == fresh)
        let again = try IdentityPublicKey(rawRepresentation: raw)
        #expect(again.agreementKey == identity.agreementKeyPair.publicKey)
        for _ in 0...AgreementKeyCache.capacity {
            _ = try IdentityPublicKey(rawRepresentation: IdentityKeyPair.generate().publicKey.rawRepresentation)
            #expect(AgreementKeyCache.count <= AgreementKeyCache.capacity)
        }
        let late = try IdentityPublicKey(rawRepresentation: identity.publicKey.rawRepresentation)
        #expect(late.agreementKey == identity.agreementKeyPair.publicKey)
    }
}
