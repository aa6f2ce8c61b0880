import Synchronization
import Testing

@testable import DuetCrypto

/// `make check-tsan` swaps `Mutex` for `SanitizerVisibleMutex` in every Duet module that depends
/// on DuetCrypto, through the alias Plugins/SanitizerMutexAlias generates (docs/sanitizers.md).
/// In such a build this file, which imports Synchronization too, must see the alias, in a type
/// annotation as in an expression; in every other build `Mutex` is Synchronization's.
@Suite("Mutex under DUET_TSAN_LOCKS")
struct SanitizerMutexTests {
    @Test func mutexIsTheOneThisBuildMeans() {
        let lock: Mutex<Int> = Mutex(0)
        lock.withLock { $0 += 1 }
        #expect(lock.withLock { $0 } == 1)
        #if DUET_TSAN_LOCKS
            #expect(type(of: lock) == SanitizerVisibleMutex<Int>.self)
        #endif
    }
}
