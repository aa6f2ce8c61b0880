import Testing

@testable import DuetCrypto

/// The one helper every random byte in Duet comes from (libsodium's randombytes_buf).
@Suite("SecureRandom")
struct SecureRandomTests {
    @Test func bytesHaveTheCountAskedForAndDiffer() {
        #expect(SecureRandom.bytes(0).isEmpty)
        let a = SecureRandom.bytes(32), b = SecureRandom.bytes(32)
        #expect(a.count == 32 && b.count == 32)
        #expect(a != b)  // equal only with probability 2^-256
        // 4096 bytes cover most of the 256 values (a stuck or zero source would not).
        #expect(Set(SecureRandom.bytes(4096)).count > 200)
    }

    @Test func fillWritesTheWholeBuffer() {
        var buffer = [UInt8](repeating: 0, count: 64)
        buffer.withUnsafeMutableBytes { SecureRandom.fill($0) }
        #expect(buffer != [UInt8](repeating: 0, count: 64))
        SecureRandom.fill(UnsafeMutableRawBufferPointer(start: nil, count: 0))  // an empty buffer is fine
    }

    @Test func uniformStaysBelowItsBoundAndReachesEveryValue() {
        let draws = (0..<2000).map { _ in SecureRandom.uniform(below: 26) }
        #expect(draws.allSatisfy { $0 < 26 })
        #expect(Set(draws).count == 26)
        #expect(SecureRandom.uniform(below: 1) == 0)
    }
}
