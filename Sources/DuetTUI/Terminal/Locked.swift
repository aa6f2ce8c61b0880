import Foundation

/// A value two threads share (the terminal thread and the async side), behind an `NSLock`.
/// Not `Synchronization.Mutex`: `make check-tsan` makes `Mutex` a lock ThreadSanitizer can see
/// through DuetCrypto (docs/sanitizers.md), and the TUI depends on DuetClient alone; NSLock is a
/// pthread mutex, which ThreadSanitizer sees in every build.
final class Locked<Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only read or written between `lock.lock()` and `lock.unlock()`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
