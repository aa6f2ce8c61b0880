import Synchronization

/// Limits meeting join attempts per source address (issue [7/9]: codes must not be
/// guessable): a bucket of `burst` attempts per address, refilled at one per `refill`. Every
/// attempt costs one, right or wrong, so a guesser cannot tell which cost it more. Shared by
/// every signaling connection; the mutex is held for one dictionary update.
final class JoinRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let burst: Int
    let refill: Duration
    private let buckets = Mutex<[String: Bucket]>([:])

    init(burst: Int = 8, refill: Duration = .seconds(6)) {
        self.burst = burst
        self.refill = refill
    }

    /// Takes one attempt for `source`; nil if allowed, else the seconds until the next one is.
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
