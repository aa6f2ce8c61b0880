import DuetCrypto
import DuetServer
import DuetWire
import Foundation
import Synchronization
import Testing

@testable import DuetClient

/// A whole device for call tests: its own device store (a real SQLite file in a temporary
/// profile), a session registered on the test server, and a call engine whose events are
/// recorded so tests can wait for them.
struct CallTestDevice {
    let number: String
    let store: DeviceStore
    let session: DeviceSession
    let engine: CallEngine
    let events: CallEventRecorder
    /// The device's temporary profile folder, removed by `close`.
    let home: URL

    static func make(_ number: String, name: String, on server: TestServer, options: CallOptions = CallOptions()) async throws
        -> CallTestDevice
    {
        try await make(number, name: name, at: server.address, options: options)
    }

    /// A device of the server at `address` (a server in another process).
    static func make(_ number: String, name: String, at address: HostPort, options: CallOptions = CallOptions()) async throws
        -> CallTestDevice
    {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-call-\(UUID().uuidString)")
        let store = try DeviceStore.open(ProfileLocation(name: name.lowercased(), home: home), passphrase: nil, create: true)
        try store.initializeKeys()
        let session = try await DeviceSession.open(store: store, server: address)
        _ = try await session.register(number: number, name: name, invite: nil)
        let engine = try CallEngine(session: session, options: options)
        let events = CallEventRecorder(engine.events)
        await engine.start()
        return CallTestDevice(number: number, store: store, session: session, engine: engine, events: events, home: home)
    }

    /// Adds `other` to this device's contacts under its name.
    func addContact(_ other: CallTestDevice, name: String) async throws {
        try await session.addContact(number: other.number, name: name)
    }

    func close() async {
        await engine.hangUp()
        await session.close()
        try? FileManager.default.removeItem(at: home)
    }
}

/// Collects a call engine's events; waits have generous upper bounds, never timing assertions.
/// A lock, not an actor, so failure messages can read the log synchronously.
final class CallEventRecorder: Sendable {
    private let recorded = Mutex<[CallEngineEvent]>([])

    init(_ stream: AsyncStream<CallEngineEvent>) {
        Task { [weak self] in
            for await event in stream { self?.record(event) }
        }
    }

    private func record(_ event: CallEngineEvent) { recorded.withLock { $0.append(event) } }

    var events: [CallEngineEvent] { recorded.withLock { $0 } }

    @discardableResult
    func waitFor(timeout: Duration = .seconds(30), _ matches: @Sendable (CallEngineEvent) -> Bool) async -> CallEngineEvent? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let event = events.first(where: matches) { return event }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return events.first(where: matches)
    }

    /// Waits until `count` events match (for a device's second call).
    func waitFor(count: Int, timeout: Duration = .seconds(30), _ matches: @Sendable (CallEngineEvent) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if events.filter(matches).count >= count { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// The state the call ended in, once it has ended (and its keys were wiped).
    func waitForEnd(timeout: Duration = .seconds(30)) async -> CallEndReason? {
        await waitFor(timeout: timeout) { $0 == .keysWiped }
        for case let .state(.ended(reason)) in events { return reason }
        return nil
    }

    func waitForConnected(timeout: Duration = .seconds(30)) async -> MediaPath? {
        guard
            case let .state(.connected(path))? = await waitFor(
                timeout: timeout, { if case .state(.connected) = $0 { true } else { false } })
        else {
            return nil
        }
        return path
    }

    /// Waits for a hearing report naming `number` as the speaker.
    func waitForHearing(_ number: String, timeout: Duration = .seconds(30)) async -> HearingReport? {
        guard
            case let .hearing(report)? = await waitFor(
                timeout: timeout,
                {
                    if case let .hearing(report) = $0 { report.speaker?.contains(number) == true } else { false }
                })
        else { return nil }
        return report
    }

    var sas: String? {
        for case let .sas(words) in events { return words }
        return nil
    }

    var lastHearing: HearingReport? {
        for case let .hearing(report) in events.reversed() { return report }
        return nil
    }

    /// The log, for failure messages.
    var log: String { events.map(\.description).joined(separator: " | ") }
}

/// Weak references to a call's secret holders, taken while the call is up.
struct SecretWatch {
    private final class Box {
        weak var object: AnyObject?
        init(_ object: AnyObject) { self.object = object }
    }
    private let boxes: [Box]

    init(_ engine: CallEngine) async {
        self.init(await engine.secretHolders())
    }

    init(_ holders: [any AnyObject & Sendable]) {
        boxes = holders.map(Box.init)
    }

    var watched: Int { boxes.count }
    var alive: Int { boxes.filter { $0.object != nil }.count }
}

extension CallOptions {
    /// A callee that answers every call at once (most call tests' second device).
    static var autoAnswering: CallOptions {
        var options = CallOptions()
        options.autoAnswer = true
        return options
    }
}
