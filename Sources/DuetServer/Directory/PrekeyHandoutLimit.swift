/// How fast one-time prekeys leave the server (docs/SECURITY.md, "Prekey draining"). Each
/// bundle fetched takes one of the number's one-time prekeys; a requester fetching in a loop
/// would push every caller onto bundles without one and make the victim's device make more
/// and more. So a one-time prekey goes out only while both the requester's bucket (64, then one
/// per 5 s) and the number's (100, then one per 10 s) allow; past that the bundle comes
/// without one — the call still works, and still has forward secrecy from the callee's
/// ephemeral key (`CallKeys`).
struct PrekeyHandoutLimit: Sendable {
    let perRequester = RateLimiter(burst: 64, refill: .seconds(5))
    let perNumber = RateLimiter(burst: 100, refill: .seconds(10))

    /// Whether `requester` (an identity key) may take one of `number`'s one-time prekeys now.
    func allows(requester: [UInt8], number: String, now: ContinuousClock.Instant = .now) -> Bool {
        guard perRequester.attempt(from: requester.map { String($0, radix: 16) }.joined(separator: ":"), now: now) == nil else {
            return false
        }
        return perNumber.attempt(from: number, now: now) == nil
    }
}
