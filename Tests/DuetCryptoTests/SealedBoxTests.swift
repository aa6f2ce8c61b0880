import DuetCrypto
import Testing

@Suite("Sealed box")
struct SealedBoxTests {
    @Test func onlyTheRecipientOpensItAndNothingAlteredOpens() throws {
        let recipient = X25519KeyPair.generate(), other = X25519KeyPair.generate()
        let message = Array("missed call from +15550001".utf8)
        let sealed = SealedBox.seal(message, to: recipient.publicKey)
        #expect(sealed.count == message.count + SealedBox.overhead)
        #expect(try SealedBox.open(sealed, with: recipient).withUnsafeBytes { Array($0) } == message)
        #expect(throws: KeyError.unsealFailed) { try SealedBox.open(sealed, with: other) }
        for index in [0, 31, 32, sealed.count - 1] {
            var altered = sealed
            altered[index] ^= 0x01
            #expect(throws: KeyError.unsealFailed) { try SealedBox.open(altered, with: recipient) }
        }
        #expect(throws: KeyError.unsealFailed) { try SealedBox.open(Array(sealed.prefix(SealedBox.overhead)), with: recipient) }
        // Two seals of one message differ (a fresh ephemeral key each): nothing links them.
        #expect(SealedBox.seal(message, to: recipient.publicKey) != sealed)
    }
}
