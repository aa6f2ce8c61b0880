import Synchronization
import Testing

@testable import DuetCrypto

/// `make check-tsan` swaps `Mutex` for `SanitizerVisibleMutex` in every Duet module through one
/// public alias in DuetCrypto (docs/sanitizers.md). In such a build this file, which imports
/// Synchronization too, must see the alias; in every other build `Mutex` is Synchronization's.
@Suite("Mutex under DUET_TSAN_LOCKS")
struct SanitizerMutexTests {
    @Test func mutexIsTheOneThisBuildMeans() {
        let lock = Mutex<Int>(0)
        lock.withLock { $0 += 1 }
        #expect(lock.withLock { $0 } == 1)
        #if DUET_TSAN_LOCKS
            #expect(type(of: lock) == SanitizerVisibleMutex<Int>.self)
        #endif
    }
}
