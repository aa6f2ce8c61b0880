import DuetCrypto
import Testing

@Suite("secretstream")
struct SecretStreamTests {
    @Test func chunksOpenInOrderAndTheFinalTagIsSeen() throws {
        let key = SecureBytes(randomCount: SecretStream.keyCount)
        let push = try SecretStream.Push(key: key)
        let a = try push.push([1, 2, 3], tag: .message, associatedData: [9])
        let b = try push.push([], tag: .final)
        #expect(throws: SecretStream.Failure.afterFinal) { try push.push([4], tag: .message) }
        #expect(a.count == 3 + SecretStream.overhead)

        let pull = try SecretStream.Pull(key: key, header: push.header)
        #expect(throws: SecretStream.Failure.cannotOpen) { try pull.pull(a) }  // associated data missing
        let pull2 = try SecretStream.Pull(key: key, header: push.header)
        let first = try pull2.pull(a, associatedData: [9])
        #expect(first.plaintext == [1, 2, 3] && first.tag == .message && !pull2.sawFinal)
        let last = try pull2.pull(b)
        #expect(last.plaintext.isEmpty && last.tag == .final && pull2.sawFinal)
        #expect(throws: SecretStream.Failure.afterFinal) { try pull2.pull(a) }
    }

    @Test func reorderedAlteredOrForeignChunksAreRefused() throws {
        let key = SecureBytes(randomCount: SecretStream.keyCount)
        let push = try SecretStream.Push(key: key)
        let a = try push.push([1], tag: .message), b = try push.push([2], tag: .final)
        #expect(throws: SecretStream.Failure.cannotOpen) { try SecretStream.Pull(key: key, header: push.header).pull(b) }
        var altered = a
        altered[altered.count - 1] ^= 1
        #expect(throws: SecretStream.Failure.cannotOpen) { try SecretStream.Pull(key: key, header: push.header).pull(altered) }
        let other = SecureBytes(randomCount: SecretStream.keyCount)
        #expect(throws: SecretStream.Failure.cannotOpen) { try SecretStream.Pull(key: other, header: push.header).pull(a) }
        #expect(throws: SecretStream.Failure.wrongKeyLength(16)) { try SecretStream.Push(key: SecureBytes(randomCount: 16)) }
        #expect(throws: SecretStream.Failure.badHeader) { try SecretStream.Pull(key: key, header: [1, 2]) }
    }
}
