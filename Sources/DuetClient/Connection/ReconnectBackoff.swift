/// When to try the server again after a connection fails or drops: exponential backoff from
/// `initialDelay`, doubling up to `maximumDelay`. A plain state machine — events in, actions
/// out, no clock or socket — so every path is tested on its own.
public struct ReconnectBackoff: Sendable, Equatable {
    public struct Policy: Sendable, Equatable {
        public var initialDelay: Duration
        public var maximumDelay: Duration
        public var multiplier: Int
        /// Attempts in a row before giving up; nil retries for ever.
        public var maximumAttempts: Int?

        public init(
            initialDelay: Duration = .milliseconds(250), maximumDelay: Duration = .seconds(30),
            multiplier: Int = 2, maximumAttempts: Int? = nil
        ) {
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
            self.multiplier = multiplier
            self.maximumAttempts = maximumAttempts
        }
    }

    public enum State: Sendable, Equatable {
        case idle
        case connecting(attempt: Int)
        case connected
        case waiting(nextAttempt: Int)
        case stopped
    }

    public enum Event: Sendable, Equatable {
        case connectRequested
        case connected
        case attemptFailed(retryable: Bool)
        case connectionLost
        case delayElapsed
        case closed
    }

    public enum Action: Sendable, Equatable {
        case connect(attempt: Int)
        case wait(Duration)
        case giveUp
        case none
    }

    public let policy: Policy
    public private(set) var state: State = .idle

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// The delay before attempt `n` of a run of failures (n ≥ 1).
    public func delay(beforeAttempt n: Int) -> Duration {
        var delay = policy.initialDelay
        for _ in 1..<max(n, 1) {
            delay = delay * policy.multiplier
            if delay >= policy.maximumDelay { return policy.maximumDelay }
        }
        return min(delay, policy.maximumDelay)
    }

    public mutating func handle(_ event: Event) -> Action {
        switch (state, event) {
        case (_, .closed):
            state = .stopped
            return .none
        case (.stopped, _):
            return .none
        case (.idle, .connectRequested):
            state = .connecting(attempt: 1)
            return .connect(attempt: 1)
        case (.connecting, .connected):
            state = .connected
            return .none
        case let (.connecting(attempt), .attemptFailed(retryable)):
            if !retryable || policy.maximumAttempts.map({ attempt >= $0 }) == true {
                state = .stopped
                return .giveUp
            }
            state = .waiting(nextAttempt: attempt + 1)
            return .wait(delay(beforeAttempt: attempt + 1))
        case (.connected, .connectionLost):
            state = .waiting(nextAttempt: 1)
            return .wait(delay(beforeAttempt: 1))
        case let (.waiting(next), .delayElapsed):
            state = .connecting(attempt: next)
            return .connect(attempt: next)
        default:
            // An event that does not apply now (a stale timer, a duplicate report): ignore it.
            return .none
        }
    }
}
