import Synchronization

/// Token buckets by key: `burst` attempts per key, refilled at one per `refill`. The server's
/// one rate limiter: meeting joins per source address (codes must not be guessable; every
/// attempt costs one, right or wrong, so a guesser cannot tell which cost it more) and
/// one-time prekey handouts per requester and per number (`PrekeyHandoutLimit`). Shared by
/// every signaling connection; the mutex is held for one dictionary update.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let burst: Int
    let refill: Duration
    private let buckets = Mutex<[String: Bucket]>([:])

    init(burst: Int, refill: Duration) {
        self.burst = burst
        self.refill = refill
    }

    /// Takes one attempt for `source`; nil if allowed, else the seconds until the next one is.
    @discardableResult
    func attempt(from source: String, now: ContinuousClock.Instant = .now) -> Int? {
        let perSecond = 1 / (Double(refill.components.seconds) + Double(refill.components.attoseconds) / 1e18)
        return buckets.withLock { buckets in
            if buckets.count > 10_000 { buckets = buckets.filter { $0.value.tokens < Double(burst) - 1 } }  // forget the idle
            var bucket = buckets[source] ?? Bucket(tokens: Double(burst), updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(Double(burst), bucket.tokens + seconds * perSecond)
            bucket.updated = now
            defer { buckets[source] = bucket }
            guard bucket.tokens >= 1 else { return Int(((1 - bucket.tokens) / perSecond).rounded(.up)) }
            bucket.tokens -= 1
            return nil
        }
    }
}
