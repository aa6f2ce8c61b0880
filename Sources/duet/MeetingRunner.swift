import DuetClient
import Foundation

/// `duet meeting` headless: drives a `MeetingEngine`, printing one event a line, and as host
/// answers knocks by the `--admit` policy (README.md "Meetings").
struct MeetingRunner {
    let engine: MeetingEngine
    private let outcome = MeetingOutcome()
    private let printer: Task<Void, Never>

    /// `video`: this device's camera (`--video`); others' video is reported either way.
    init(session: DeviceSession, video: VideoSettings? = nil) throws {
        engine = try MeetingEngine(session: session, video: video)
        let events = engine.events, outcome = outcome
        printer = Task { await outcome.follow(events) }
    }

    /// The host's part: admit knockers by `policy` until `duration` passes, then leave (which ends the meeting).
    func hold(for duration: Duration, admitting policy: Duet.Meeting.AdmitPolicy) async throws {
        let deadline = ContinuousClock.now + duration
        var decided: Set<String> = []
        while ContinuousClock.now < deadline, await !outcome.ended {
            for person in await engine.snapshot()?.meeting?.knocking ?? [] where !decided.contains(person.id) {
                decided.insert(person.id)
                let yes = policy.admits(person)
                printEventLine("\(yes ? "admitting" : "denying") \(person.name) (\(person.id))")
                try await engine.admit(person.id, yes)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        try await finishChecked()
    }

    /// A joiner's part: wait to be let in, then stay until `duration` (or the meeting ends).
    func attend(for duration: Duration?, record: Bool) async throws {
        guard await outcome.waitUntilInsideOrEnded(within: .seconds(120)) else {
            await finish()
            throw CommandFailure("nobody let this device in within 2 minutes")
        }
        if await outcome.ended {
            await finish()
            throw CommandFailure(await outcome.endReason ?? "the meeting ended")
        }
        if record { try await engine.record(true) }
        let deadline = duration.map { ContinuousClock.now + $0 }
        while await !outcome.ended {
            if let deadline, ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        try await finishChecked()
    }

    /// Leaves; succeeds only if the media leg came up at some point.
    private func finishChecked() async throws {
        await finish()
        guard await outcome.connected else { throw CommandFailure("the meeting's media leg never came up") }
    }

    func finish() async {
        await engine.close()
        _ = await outcome.waitUntilWiped(within: .seconds(5))
        printer.cancel()
    }
}

/// What a headless meeting has shown so far.
actor MeetingOutcome {
    private(set) var connected = false
    private(set) var ended = false
    private(set) var endReason: String?
    private(set) var wiped = false

    func follow(_ events: AsyncStream<MeetingEngineEvent>) async {
        for await event in events {
            // The room on entry is for screens; the lines around it already say who is in.
            if case .entered = event {} else { printEventLine(event.description) }
            switch event {
            case .mediaConnected: connected = true
            case let .ended(reason):
                ended = true
                endReason = reason.description
            case .keysWiped: wiped = true
            default: break
            }
        }
    }

    func waitUntilInsideOrEnded(within limit: Duration) async -> Bool { await wait(within: limit) { connected || ended } }
    func waitUntilWiped(within limit: Duration) async -> Bool { await wait(within: limit) { wiped } }

    private func wait(within limit: Duration, until condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !condition(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return condition()
    }
}
