import DuetClient
import Foundation

/// `duet call GROUP` and `duet answer` for group calls: drives a `GroupCallEngine` headless,
/// printing one event a line — who joined and left, each rekey with its cause, and once a
/// second whom this device hears under which key epoch and whom it sees (README.md "Groups
/// and group calls").
struct GroupCallRunner {
    let session: DeviceSession
    let engine: GroupCallEngine
    let outcome = GroupCallOutcome()
    private let printer: Task<Void, Never>

    /// `video`: this device's camera (`--video`); members' video is reported either way.
    init(session: DeviceSession, video: VideoSettings? = nil) async throws {
        self.session = session
        var options = GroupCallEngine.Options()
        options.video = video
        engine = try GroupCallEngine(session: session, options: options)
        let events = engine.events, outcome = outcome
        printer = Task { await outcome.follow(events) }
        await engine.follow()
    }

    /// Whether `target` names a group rather than a number: numbers are `+` and digits.
    static func isGroupName(_ target: String) -> Bool {
        !target.hasPrefix("+") && !target.allSatisfy(\.isNumber)
    }

    /// Rings `groupName`'s members and talks for `duration` once the media leg is up.
    func call(groupName: String, duration: Duration) async throws {
        let group = try await session.group(named: groupName)
        let info = try await engine.start(group: group.id)
        printEventLine("calling group \(group.name) (\(group.members.joined(separator: " "))) as call \(info.callID)")
        try await talk(for: duration)
    }

    /// Joins a call this device was rung for and stays until `duration` passes, or (without
    /// one) until nobody else is left in it.
    func join(_ invitation: GroupCallInfo, duration: Duration?) async throws {
        _ = try await engine.join(callID: invitation.callID)
        printEventLine("joined group call \(invitation.callID) in \(invitation.group.name)")
        try await talk(for: duration)
    }

    private func talk(for duration: Duration?) async throws {
        guard await outcome.waitUntilConnectedOrEnded(within: .seconds(15)) else {
            await finish()
            throw CommandFailure("the media leg to the server's SFU did not come up within 15 s")
        }
        if await outcome.connected {
            let deadline = duration.map { ContinuousClock.now + $0 }
            var hadCompany = false
            while await !outcome.ended {
                if let deadline, ContinuousClock.now >= deadline { break }
                let others = await engine.snapshot()?.participants.count ?? 1
                if others > 1 { hadCompany = true }
                if deadline == nil, hadCompany, others <= 1 { break }  // everyone else hung up
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        await finish()
        if await !outcome.connected { throw CommandFailure("the group call ended before its media leg came up") }
    }

    /// Leaves (wiping every key), waits for the wipe to be reported, stops printing.
    /// `hadCall` false: this device was in no group call, so no wipe will be reported (`duet
    /// answer` picking up a 1:1 call waited 5 s here for one before it answered).
    func finish(hadCall: Bool = true) async {
        await engine.close()
        if hadCall { _ = await outcome.waitUntilWiped(within: .seconds(5)) }
        printer.cancel()
    }
}

/// What a headless group call has shown so far.
actor GroupCallOutcome {
    private(set) var connected = false
    private(set) var ended = false
    private(set) var wiped = false
    private(set) var invitation: GroupCallInfo?

    func follow(_ events: AsyncStream<GroupCallEngineEvent>) async {
        for await event in events {
            printEventLine(event.description)
            switch event {
            case .mediaConnected: connected = true
            case .ended: ended = true
            case .keysWiped: wiped = true
            case let .ringing(call): if invitation == nil { invitation = call }
            default: break
            }
        }
    }

    func waitUntilConnectedOrEnded(within limit: Duration) async -> Bool {
        await wait(within: limit) { connected || ended }
    }

    func waitUntilWiped(within limit: Duration) async -> Bool { await wait(within: limit) { wiped } }

    private func wait(within limit: Duration, until condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !condition(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return condition()
    }
}
