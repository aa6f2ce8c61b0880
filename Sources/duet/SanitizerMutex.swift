#if DUET_TSAN_LOCKS
    import DuetCrypto

    /// `make check-tsan` only: `Mutex` here is a pthread-backed mutex ThreadSanitizer can see
    /// (why: DuetCrypto's SanitizerVisibleMutex, docs/sanitizers.md). Other builds use
    /// Synchronization.Mutex.
    typealias Mutex<Value> = SanitizerVisibleMutex<Value>
#endif
