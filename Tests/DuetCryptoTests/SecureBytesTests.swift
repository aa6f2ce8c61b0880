import Synchronization
import Testing

@testable import DuetCrypto

@Suite("SecureBytes", .serialized)
struct SecureBytesTests {
    /// Watches the release of one buffer through the test hook and reports what its memory
    /// held just before it was handed back to the allocator.
    final class ReleaseWatch: Sendable {
        let seen = Mutex<[UInt8]?>(nil)
        let watched: UInt
        init(_ bytes: SecureBytes) { watched = UInt(bitPattern: bytes.address) }
    }

    @Test func memoryIsZeroedOnRelease() {
        var secret: SecureBytes? = SecureBytes(copying: [UInt8](repeating: 0xA5, count: 48))
        let watch = ReleaseWatch(secret!)
        let address = watch.watched
        SecureBytes.releaseObserver.withLock { observer in
            observer = { buffer in
                // The first release at that address is ours: the slot may be handed to another
                // test's secret right after.
                if UInt(bitPattern: buffer.baseAddress) == address { watch.seen.withLock { if $0 == nil { $0 = Array(buffer) } } }
            }
        }
        defer { SecureBytes.releaseObserver.withLock { $0 = nil } }
        #expect(secret!.withUnsafeBytes { Array($0) } == [UInt8](repeating: 0xA5, count: 48))
        secret = nil
        let seen = watch.seen.withLock { $0 }
        #expect(seen == [UInt8](repeating: 0, count: 48))
    }

    /// The hook a log search collects secrets with sees each secret once it is written.
    @Test func creationIsObservedWithTheSecret() {
        let seen = Mutex<[[UInt8]]>([])
        SecureBytes.creationObserver.withLock { $0 = { buffer in seen.withLock { $0.append(Array(buffer)) } } }
        defer { SecureBytes.creationObserver.withLock { $0 = nil } }
        let secret = SecureBytes(copying: Array(1...40))
        let derived = secret.slice(8..<40)
        #expect(seen.withLock { $0 }.contains(Array(1...40)))
        #expect(seen.withLock { $0 }.contains(Array(9...40)))
        withExtendedLifetime((secret, derived)) {}
    }

    @Test func descriptionNeverShowsTheBytes() {
        let secret = SecureBytes(copying: Array("hunter2hunter2".utf8))
        for text in [String(describing: secret), String(reflecting: secret), "\(secret)"] {
            #expect(!text.contains("hunter2"))
            #expect(!text.contains("68756e746572"))
            #expect(text.contains("redacted"))
        }
    }

    @Test func constantTimeEquality() {
        let a = SecureBytes(copying: [1, 2, 3]), b = SecureBytes(copying: [1, 2, 3]), c = SecureBytes(copying: [1, 2, 4])
        #expect(a.constantTimeEquals(b))
        #expect(!a.constantTimeEquals(c))
        #expect(!a.constantTimeEquals(SecureBytes(copying: [1, 2])))
    }

    @Test func slicesCopyTheRightBytes() {
        let a = SecureBytes(copying: Array(0..<30))
        #expect(a.prefix(16).withUnsafeBytes { Array($0) } == Array(0..<16))
        #expect(a.slice(16..<30).withUnsafeBytes { Array($0) } == Array(16..<30))
    }
}
