import DuetClient
import Testing

@Suite("Reconnect backoff state machine")
struct ReconnectBackoffTests {
    let policy = ReconnectBackoff.Policy(initialDelay: .milliseconds(100), maximumDelay: .seconds(1), multiplier: 2, maximumAttempts: nil)

    @Test func delaysDoubleUpToTheMaximum() {
        let backoff = ReconnectBackoff(policy: policy)
        #expect(
            (1...6).map { backoff.delay(beforeAttempt: $0) } == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)
            ])
    }

    @Test func retriesAfterFailuresAndResetsOnceConnected() {
        var backoff = ReconnectBackoff(policy: policy)
        #expect(backoff.handle(.connectRequested) == .connect(attempt: 1))
        #expect(backoff.handle(.attemptFailed(retryable: true)) == .wait(.milliseconds(200)))
        #expect(backoff.state == .waiting(nextAttempt: 2))
        #expect(backoff.handle(.delayElapsed) == .connect(attempt: 2))
        #expect(backoff.handle(.attemptFailed(retryable: true)) == .wait(.milliseconds(400)))
        #expect(backoff.handle(.delayElapsed) == .connect(attempt: 3))
        #expect(backoff.handle(.connected) == .none)
        #expect(backoff.state == .connected)
        // A drop after a good connection starts again from the shortest delay.
        #expect(backoff.handle(.connectionLost) == .wait(.milliseconds(100)))
        #expect(backoff.handle(.delayElapsed) == .connect(attempt: 1))
    }

    @Test func givesUpOnAFailureThatCannotFixItself() {
        var backoff = ReconnectBackoff(policy: policy)
        _ = backoff.handle(.connectRequested)
        #expect(backoff.handle(.attemptFailed(retryable: false)) == .giveUp)
        #expect(backoff.state == .stopped)
        #expect(backoff.handle(.delayElapsed) == .none)
    }

    @Test func givesUpAfterTheMaximumAttempts() {
        var backoff = ReconnectBackoff(policy: .init(initialDelay: .milliseconds(10), maximumDelay: .seconds(1), maximumAttempts: 2))
        _ = backoff.handle(.connectRequested)
        #expect(backoff.handle(.attemptFailed(retryable: true)) == .wait(.milliseconds(20)))
        #expect(backoff.handle(.delayElapsed) == .connect(attempt: 2))
        #expect(backoff.handle(.attemptFailed(retryable: true)) == .giveUp)
    }

    @Test func closingStopsEverythingAndStaleEventsAreIgnored() {
        var backoff = ReconnectBackoff(policy: policy)
        #expect(backoff.handle(.delayElapsed) == .none)
        #expect(backoff.state == .idle)
        _ = backoff.handle(.connectRequested)
        _ = backoff.handle(.attemptFailed(retryable: true))
        #expect(backoff.handle(.closed) == .none)
        #expect(backoff.state == .stopped)
        #expect(backoff.handle(.delayElapsed) == .none)
        #expect(backoff.handle(.connectRequested) == .none)
    }
}
