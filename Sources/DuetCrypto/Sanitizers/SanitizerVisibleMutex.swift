#if DUET_TSAN_LOCKS
    import Glibc

    /// A drop-in for `Synchronization.Mutex` that ThreadSanitizer can see, compiled only into
    /// `make check-tsan` builds (Package.swift defines DUET_TSAN_LOCKS when the environment sets
    /// it; each module's `Mutex` then means this type: DuetCrypto's by the alias below, the
    /// others' by the one Plugins/SanitizerMutexAlias generates).
    ///
    /// Why: with Swift 6.3 on Linux, `Mutex.withLock`'s fast path is inlined into our code (and
    /// instrumented), but when the lock is contended it is taken and released in `_lockSlow` /
    /// `_unlockSlow` inside libswiftSynchronization.so, which is not instrumented and uses futex
    /// syscalls TSan does not intercept. TSan then misses the happens-before edge and reports
    /// every contended critical section as a data race (two threads incrementing an Int under one
    /// Mutex reproduce it; docs/sanitizers.md). A pthread mutex is intercepted, so races TSan
    /// reports in a check-tsan build are real ones. Same API subset the code uses: `init(_:)` and
    /// `withLock` with typed throws.
    public final class SanitizerVisibleMutex<Value>: @unchecked Sendable {
        // @unchecked Sendable: `storage` is only read or written between pthread_mutex_lock and
        // pthread_mutex_unlock of `mutex`, exactly Mutex's contract.
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private let storage: UnsafeMutablePointer<Value>

        public init(_ initialValue: consuming sending Value) {
            mutex = .allocate(capacity: 1)
            pthread_mutex_init(mutex, nil)
            storage = .allocate(capacity: 1)
            storage.initialize(to: initialValue)
        }

        deinit {
            storage.deinitialize(count: 1)
            storage.deallocate()
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
        }

        public func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return try body(&storage.pointee)
        }
    }

    /// DuetCrypto's own uses of `Mutex`. Every other target that depends on DuetCrypto gets the
    /// same alias from Plugins/SanitizerMutexAlias in a DUET_TSAN_LOCKS build (docs/sanitizers.md).
    typealias Mutex<Value> = SanitizerVisibleMutex<Value>
#endif
