import DuetCrypto
import Testing

@testable import DuetMedia

@Suite("SFrame RFC 9605 vectors")
struct SFrameVectorTests {
    static func suite5() throws -> [SFrameVectors.Frame] {
        try SFrameVectors.load().sframe.filter { $0.cipher_suite == SFrameCipherSuite.aes256GCMSHA512_128.rawValue }
    }

    @Test func theFileHasTheSuite5Vector() throws {
        #expect(try Self.suite5().count == 1)
        #expect(SFrameCipherSuite.aes256GCMSHA512_128.isAvailable, "this CPU lacks AES-NI/PCLMUL")
    }

    @Test func keyScheduleMatches() throws {
        for vector in try Self.suite5() {
            let suite = try #require(SFrameCipherSuite(rawValue: vector.cipher_suite))
            let baseKey = SecureBytes(copying: SecureHex.bytes(vector.base_key))
            #expect(SFrameKeyMaterial.label("key", keyID: vector.kid, suite: suite) == SecureHex.bytes(vector.sframe_key_label))
            #expect(SFrameKeyMaterial.label("salt", keyID: vector.kid, suite: suite) == SecureHex.bytes(vector.sframe_salt_label))
            let secret = SFrameKeyMaterial.secret(baseKey: baseKey, suite: suite)
            #expect(secret.withUnsafeBytes { Array($0) } == SecureHex.bytes(vector.sframe_secret))
            let material = try SFrameKeyMaterial(baseKey: baseKey, keyID: vector.kid, suite: suite)
            #expect(material.key.withUnsafeBytes { Array($0) } == SecureHex.bytes(vector.sframe_key))
            #expect(material.salt.withUnsafeBytes { Array($0) } == SecureHex.bytes(vector.sframe_salt))
        }
    }

    @Test func encryptionMatchesAndDecrypts() throws {
        for vector in try Self.suite5() {
            let suite = try #require(SFrameCipherSuite(rawValue: vector.cipher_suite))
            let baseKey = SecureBytes(copying: SecureHex.bytes(vector.base_key))
            let metadata = SecureHex.bytes(vector.metadata)
            let header = SFrameHeader(keyID: vector.kid, counter: vector.ctr).encoded()
            #expect(header + metadata == SecureHex.bytes(vector.aad))
            // The nonce is salt XOR CTR in the low bytes.
            var nonce = SecureHex.bytes(vector.sframe_salt)
            for i in 0..<8 { nonce[11 - i] ^= UInt8(truncatingIfNeeded: vector.ctr >> (8 * UInt64(i))) }
            #expect(nonce == SecureHex.bytes(vector.nonce))

            let material = try SFrameKeyMaterial(baseKey: baseKey, keyID: vector.kid, suite: suite)
            let sealed = material.seal(counter: vector.ctr, plaintext: SecureHex.bytes(vector.pt), metadata: metadata)
            #expect(SecureHex.string(sealed) == vector.ct)

            let receiver = try SFrameReceiver(suite: suite)
            try receiver.addKey(baseKey, keyID: vector.kid)
            let opened = try receiver.decrypt(SecureHex.bytes(vector.ct), metadata: metadata)
            #expect(
                opened == SFramePlaintext(header: SFrameHeader(keyID: vector.kid, counter: vector.ctr), payload: SecureHex.bytes(vector.pt))
            )
        }
    }
}
