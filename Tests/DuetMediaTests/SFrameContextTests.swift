import DuetCrypto
import Testing

@testable import DuetMedia

@Suite("SFrame sender and receiver")
struct SFrameContextTests {
    static func key() -> SecureBytes { SecureBytes(randomCount: 32) }
    static let frame: [UInt8] = (0..<120).map { UInt8($0) }

    static func pair(keyID: UInt64 = 7) throws -> (SFrameSender, SFrameReceiver) {
        let key = key()
        let sender = try SFrameSender()
        try sender.setKey(key, keyID: keyID)
        let receiver = try SFrameReceiver()
        try receiver.addKey(key, keyID: keyID)
        return (sender, receiver)
    }

    @Test func framesRoundTripWithCountersFromZero() throws {
        let (sender, receiver) = try Self.pair(keyID: 0x1_0000_0000)
        for counter in 0..<5 as Range<UInt64> {
            let ciphertext = try sender.encrypt(Self.frame, metadata: [1, 2, 3])
            #expect(ciphertext.count == SFrameHeader(keyID: 0x1_0000_0000, counter: counter).encodedLength + Self.frame.count + 16)
            let plain = try receiver.decrypt(ciphertext, metadata: [1, 2, 3])
            #expect(plain.header == SFrameHeader(keyID: 0x1_0000_0000, counter: counter))
            #expect(plain.payload == Self.frame)
        }
        #expect(try receiver.decrypt(sender.encrypt([])).payload == [])
    }

    /// Every single-bit flip is rejected; which error depends on where the bit lands.
    @Test func everySingleBitFlipIsRejected() throws {
        let key = Self.key()
        let sender = try SFrameSender()
        try sender.setKey(key, keyID: 7)
        let ciphertext = try sender.encrypt(Self.frame)
        var wrong: [String] = []
        for bit in 0..<ciphertext.count * 8 {
            var flipped = ciphertext
            flipped[bit / 8] ^= 0x80 >> UInt8(bit % 8)
            // A fresh receiver per flip, so no flip is judged by another's replay state.
            let receiver = try SFrameReceiver()
            try receiver.addKey(key, keyID: 7)
            let expected: SFrameError
            do {
                let (header, length) = try SFrameHeader.decode(flipped)
                if flipped.count < length + 16 {
                    expected = .ciphertextTooShort(length: flipped.count, minimum: length + 16)
                } else if header.keyID != 7 {
                    expected = .unknownKeyID(header.keyID)
                } else {
                    expected = .authenticationFailed(keyID: 7, counter: header.counter)
                }
            } catch {
                expected = error
            }
            do {
                _ = try receiver.decrypt(flipped)
                wrong.append("bit \(bit) accepted")
            } catch {
                // (A `catch where` clause here sends Swift 6.3's SIL optimizer into a loop.)
                if error != expected { wrong.append("bit \(bit): \(error), expected \(expected)") }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }

    @Test func wrongKeyOrMetadataFailsAuthentication() throws {
        let (sender, receiver) = try Self.pair()
        let other = try SFrameReceiver()
        try other.addKey(Self.key(), keyID: 7)
        let ciphertext = try sender.encrypt(Self.frame, metadata: [9])
        #expect(throws: SFrameError.authenticationFailed(keyID: 7, counter: 0)) { try other.decrypt(ciphertext, metadata: [9]) }
        #expect(throws: SFrameError.authenticationFailed(keyID: 7, counter: 0)) { try receiver.decrypt(ciphertext, metadata: [8]) }
        #expect(throws: SFrameError.authenticationFailed(keyID: 7, counter: 0)) { try receiver.decrypt(ciphertext) }
        #expect(try receiver.decrypt(ciphertext, metadata: [9]).payload == Self.frame)  // failures did not burn the counter
    }

    @Test func unknownKeyIDIsReported() throws {
        let (sender, _) = try Self.pair(keyID: 99)
        let receiver = try SFrameReceiver()
        try receiver.addKey(Self.key(), keyID: 7)
        #expect(throws: SFrameError.unknownKeyID(99)) { try receiver.decrypt(sender.encrypt(Self.frame)) }
    }

    @Test func truncatedFramesAreRejected() throws {
        let (sender, receiver) = try Self.pair(keyID: 300)  // 3-byte header: 0x90 0x01 0x2c
        let ciphertext = try sender.encrypt(Self.frame)
        for cut in 0..<ciphertext.count {
            let expected: SFrameError =
                switch cut {
                case 0: .malformedHeader(.empty)
                case 1..<3: .malformedHeader(.truncated(needed: 3, length: cut))
                case 3..<19: .ciphertextTooShort(length: cut, minimum: 19)
                default: .authenticationFailed(keyID: 300, counter: 0)
                }
            #expect(throws: expected, "cut at \(cut)") { try receiver.decrypt(Array(ciphertext.prefix(cut))) }
        }
    }

    @Test func replayedAndTooOldFramesAreRejected() throws {
        let (sender, receiver) = try Self.pair()
        let frames = try (0..<100).map { _ in try sender.encrypt(Self.frame) }
        _ = try receiver.decrypt(frames[99])
        #expect(throws: SFrameError.replay(keyID: 7, counter: 99, tooOld: false)) { try receiver.decrypt(frames[99]) }
        #expect(throws: SFrameError.replay(keyID: 7, counter: 10, tooOld: true)) { try receiver.decrypt(frames[10]) }
        _ = try receiver.decrypt(frames[50])  // late, inside the 64-frame window
        #expect(throws: SFrameError.replay(keyID: 7, counter: 50, tooOld: false)) { try receiver.decrypt(frames[50]) }
    }

    @Test func counterExhaustionStopsTheSender() throws {
        let (sender, receiver) = try Self.pair()
        sender.skipCounter(to: .max)
        let last = try sender.encrypt(Self.frame)
        #expect(try receiver.decrypt(last).header.counter == .max)
        #expect(throws: SFrameError.counterExhausted(keyID: 7)) { try sender.encrypt(Self.frame) }
        try sender.setKey(Self.key(), keyID: 8)  // a rekey starts over
        #expect(try SFrameHeader.decode(sender.encrypt(Self.frame)).header == SFrameHeader(keyID: 8, counter: 0))
    }

    @Test func keyIDsAreNeverReusedForDifferentKeys() throws {
        let sender = try SFrameSender()
        #expect(throws: SFrameError.noSendKey) { try sender.encrypt(Self.frame) }
        try sender.setKey(Self.key(), keyID: 1)
        try sender.setKey(Self.key(), keyID: 2)
        #expect(throws: SFrameError.keyIDReused(1)) { try sender.setKey(Self.key(), keyID: 1) }
        #expect(sender.currentKeyID == 2)
        sender.removeKey()
        #expect(throws: SFrameError.noSendKey) { try sender.encrypt(Self.frame) }

        let receiver = try SFrameReceiver()
        let key = Self.key()
        try receiver.addKey(key, keyID: 1)
        try receiver.addKey(key, keyID: 1)  // redelivery of the same key is harmless
        #expect(throws: SFrameError.keyIDReused(1)) { try receiver.addKey(Self.key(), keyID: 1) }
        #expect(throws: SFrameError.baseKeyTooShort(length: 8, minimum: 16)) { try receiver.addKey(SecureBytes(randomCount: 8), keyID: 2) }
    }

    /// After a rekey the old KID keeps working for the overlap once the new one is in use,
    /// then is dropped; a key added ahead of use does not start the clock.
    @Test func oldKeysAreDroppedAfterTheOverlap() throws {
        let oldKey = Self.key(), newKey = Self.key()
        let oldSender = try SFrameSender(), newSender = try SFrameSender()
        try oldSender.setKey(oldKey, keyID: 1)
        try newSender.setKey(newKey, keyID: 2)
        let receiver = try SFrameReceiver(overlap: .seconds(2))
        try receiver.addKey(oldKey, keyID: 1)
        let t0 = ContinuousClock.now
        _ = try receiver.decrypt(oldSender.encrypt(Self.frame), now: t0)
        try receiver.addKey(newKey, keyID: 2)
        _ = try receiver.decrypt(oldSender.encrypt(Self.frame), now: t0 + .seconds(60))  // new key not in use yet
        let t1 = t0 + .seconds(61)
        _ = try receiver.decrypt(newSender.encrypt(Self.frame), now: t1)
        _ = try receiver.decrypt(oldSender.encrypt(Self.frame), now: t1 + .milliseconds(1_999))
        #expect(throws: SFrameError.unknownKeyID(1)) { try receiver.decrypt(oldSender.encrypt(Self.frame), now: t1 + .seconds(2)) }
        #expect(receiver.keyIDs == [2])
        _ = try receiver.decrypt(newSender.encrypt(Self.frame), now: t1 + .seconds(100))
        receiver.removeAllKeys()
        #expect(throws: SFrameError.unknownKeyID(2)) { try receiver.decrypt(newSender.encrypt(Self.frame), now: t1 + .seconds(100)) }
    }

    @Test func errorsSayWhatToDo() {
        #expect(SFrameError.noSendKey.description.contains("setKey"))
        #expect(SFrameError.keyIDReused(3).description.contains("new KID"))
        #expect(SFrameError.malformedHeader(.truncated(needed: 9, length: 4)).description.contains("9-byte header"))
    }
}
