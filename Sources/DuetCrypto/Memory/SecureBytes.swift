import CSodium
import Synchronization

/// Secret bytes in memory that libsodium guards and that are zeroed when released.
///
/// The buffer is a slot of `SecureArena` (locked against swapping where the system allows,
/// guard pages around its region, never the ordinary heap). On release it is zeroed with
/// `sodium_memzero` and handed back. Its description never shows the bytes.
public final class SecureBytes: @unchecked Sendable {
    // @unchecked: the buffer is written only inside `init` and only read after it, until
    // `deinit`, so concurrent readers cannot race with a writer.
    private let pointer: UnsafeMutableRawPointer
    /// Number of secret bytes.
    public let count: Int

    /// Makes `count` bytes and lets `initialize` write them, once.
    public init(count: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        Sodium.ready()
        precondition(count > 0, "SecureBytes needs at least one byte")
        let p = SecureArena.shared.allocate(count)
        pointer = p
        self.count = count
        do {
            try initialize(UnsafeMutableRawBufferPointer(start: p, count: count))
        } catch {
            SecureArena.shared.release(p, count: count)
            throw error
        }
        if let observe = SecureBytes.creationObserver.withLock({ $0 }) {
            observe(UnsafeRawBufferPointer(start: p, count: count))
        }
    }

    /// `count` bytes from the system's CSPRNG.
    public convenience init(randomCount count: Int) {
        self.init(count: count) { SecureRandom.fill($0) }
    }

    /// A copy of `bytes`; the caller remains responsible for wiping its own copy.
    public convenience init(copying bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        self.init(count: array.count) { buffer in
            buffer.copyBytes(from: array)
        }
    }

    deinit {
        sodium_memzero(pointer, count)
        if let observe = SecureBytes.releaseObserver.withLock({ $0 }) {
            observe(UnsafeRawBufferPointer(start: pointer, count: count))
        }
        SecureArena.shared.release(pointer, count: count)
    }

    /// Reads the secret without copying it out.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The first `length` bytes as a new `SecureBytes` (for splitting derived key material).
    public func prefix(_ length: Int) -> SecureBytes {
        slice(0..<length)
    }

    /// A sub-range as a new `SecureBytes`.
    public func slice(_ range: Range<Int>) -> SecureBytes {
        precondition(range.lowerBound >= 0 && range.upperBound <= count && !range.isEmpty)
        return SecureBytes(count: range.count) { out in
            out.copyMemory(from: UnsafeRawBufferPointer(start: pointer + range.lowerBound, count: range.count))
        }
    }

    /// Constant-time comparison (`sodium_memcmp`); different lengths are simply unequal.
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        guard count == other.count else { return false }
        return sodium_memcmp(pointer, other.pointer, count) == 0
    }

    /// Test hook: called from `deinit` after the bytes were zeroed and before they are
    /// freed, with a view of the released buffer. Production code never sets it.
    static let releaseObserver = Mutex<(@Sendable (UnsafeRawBufferPointer) -> Void)?>(nil)

    /// Test hook: called at the end of `init`, once the secret is written, with a view of it.
    /// A security test collects every secret a run made this way and searches the run's logs
    /// for each (`releaseObserver` comes too late for that: the bytes are zeroed by then).
    /// Production code never sets it.
    static let creationObserver = Mutex<(@Sendable (UnsafeRawBufferPointer) -> Void)?>(nil)

    /// The buffer's address, so a test can tell its own release from others'.
    var address: UnsafeRawPointer { UnsafeRawPointer(pointer) }
}

extension SecureBytes: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "SecureBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }
}
