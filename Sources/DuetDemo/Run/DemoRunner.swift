import DuetClient
import DuetMedia
import DuetServer
import Foundation
import Logging

/// How a story is played.
public struct DemoRunOptions: Sendable {
    /// A pause after each step so a watching person can follow (the TUI's pace); none headless.
    public var pause: Duration = .zero
    /// `wait` lines and the pause are divided by this (`--speed 2` plays twice as fast).
    public var speed: Double = 1
    /// How long an `expect` waits for its property before it fails.
    public var checkTimeout: Duration = .seconds(20)
    /// The demo server's logger. Nil (the default): one at `.critical`, since the transcript is
    /// the demo's output. A test passes one at `.trace` with its own handler to read every line
    /// the server logs (the security test searches them for key bytes).
    public var serverLogger: Logger?

    public init() {}
}

/// Plays a `DemoScript` over a real server and real devices (docs/demo.md): each line is done
/// or checked, in order, and becomes a transcript step; the first step that fails ends the
/// story and the rest are listed as not run. Everything the story made is removed afterwards.
public actor DemoRunner {
    let script: DemoScript
    let options: DemoRunOptions
    var world: DemoWorld?
    var devices: [String: DemoDevice] = [:]
    /// Script group name → the server's group id and the owner's script name.
    var groups: [String: (id: String, owner: String)] = [:]
    /// The 1:1 call rung and not yet answered.
    var pendingCall: PendingCall?
    /// Where the relay's log stood when the last relayed call was placed, and its callers.
    var relayMark = 0
    var relayCallers: [String] = []
    /// Group call ids this story started (the SFU check looks at their rooms only).
    var groupCallIDs: Set<String> = []
    /// The last membership change of a group call, for `expect rekey`.
    var membershipChange: MembershipChange?
    var meeting: (link: MeetingLink, host: String)?
    /// Each device's participant id in the meeting (a guest's is given by the server).
    var meetingIDs: [String: String] = [:]
    /// The decoded audio of the last `export`.
    var exported: [Int16]?
    private var onDevice: (@Sendable (DemoDeviceHandle) -> Void)?

    struct PendingCall {
        let caller: String
        let callee: String
        let dialed: ContinuousClock.Instant
        /// When the callee was seen ringing: the time until `answer` is the story's, not the call's.
        let rang: ContinuousClock.Instant
        let callerMark: Int
        let calleeMark: Int
    }

    /// A member added, removed or leaving during a group call: when, each device's epoch and
    /// log position just before, and the rekey cause it must lead to.
    struct MembershipChange {
        let at: ContinuousClock.Instant
        let epochs: [String: UInt16]
        let marks: [String: Int]
        let cause: RekeyCause
        /// "add", "remove" or "leave": names the timing (`rekey_add_ms`).
        let what: String
    }

    /// A step that held: what was seen, and what was measured.
    struct Outcome {
        var detail: String?
        var timings: [String: Int] = [:]
        init(_ detail: String? = nil, timings: [String: Int] = [:]) {
            self.detail = detail
            self.timings = timings
        }
    }

    public init(script: DemoScript, options: DemoRunOptions = DemoRunOptions()) {
        self.script = script
        self.options = options
    }

    /// Runs the story. `onStep` sees each step as it ends (the live transcript); `onDevice`
    /// each device as soon as it is registered (the TUI shows one of them); `onFinished` the
    /// transcript before the world is torn down (the TUI keeps it up until the viewer quits).
    /// Cancelling the task stops the story after the current step.
    public func run(
        onStep: @escaping @Sendable (DemoTranscript.Step) -> Void = { _ in },
        onDevice: @escaping @Sendable (DemoDeviceHandle) -> Void = { _ in },
        onFinished: @Sendable (DemoTranscript) async -> Void = { _ in }
    ) async -> DemoTranscript {
        self.onDevice = onDevice
        let started = ContinuousClock.now
        var transcript = DemoTranscript(script: script.file)
        func record(_ step: DemoTranscript.Step) {
            transcript.record(step)
            onStep(step)
        }
        do {
            world = try await DemoWorld.start(logger: options.serverLogger)
        } catch {
            record(
                .init(
                    line: 0, command: "start a server", status: .failed, isCheck: false, atMilliseconds: 0, milliseconds: 0,
                    detail: "the demo's server did not start: \(error)"))
        }
        for step in script.steps {
            let at = Self.milliseconds(started.duration(to: .now))
            let isCheck = if case .expect = step.command { true } else { false }
            guard transcript.failure == nil, !Task.isCancelled else {
                record(
                    .init(
                        line: step.line, command: step.text, status: .skipped, isCheck: isCheck, atMilliseconds: at, milliseconds: 0,
                        detail: nil))
                continue
            }
            let begun = ContinuousClock.now
            do {
                let outcome = try await perform(step.command)
                let status: DemoTranscript.Status = if case .say = step.command { .narration } else { .passed }
                record(
                    .init(
                        line: step.line, command: step.text, status: status, isCheck: isCheck, atMilliseconds: at,
                        milliseconds: Self.milliseconds(begun.duration(to: .now)), detail: outcome.detail, timings: outcome.timings))
            } catch {
                let message = (error as? DemoFailure)?.message ?? "\(error)"
                record(
                    .init(
                        line: step.line, command: step.text, status: .failed, isCheck: isCheck, atMilliseconds: at,
                        milliseconds: Self.milliseconds(begun.duration(to: .now)), detail: message))
            }
            if options.pause > .zero { try? await Task.sleep(for: options.pause / options.speed) }
        }
        transcript.totalMilliseconds = Self.milliseconds(started.duration(to: .now))
        await onFinished(transcript)
        for device in devices.values { await device.close() }
        devices = [:]
        await world?.stop()
        world = nil
        return transcript
    }

    private func perform(_ command: DemoCommand) async throws -> Outcome {
        switch command {
        case let .say(text): return Outcome(text)
        case let .wait(duration):
            try await Task.sleep(for: duration / options.speed)
            return Outcome()
        case let .devices(declared): return try await makeDevices(declared)
        case let .guests(names): return try await makeGuests(names)
        case let .register(names): return try await register(names)
        case let .contacts(names): return try await addContacts(names)
        case let .verify(a, b): return try await verify(a, b)
        case let .call(caller, callee, relay): return try await call(caller, callee, relay: relay)
        case let .answer(name): return try await answer(name)
        case let .hangUp(name): return try await hangUp(name)
        case let .groupCall(caller, group): return try await startGroupCall(caller, group)
        case let .join(name): return try await join(name)
        case let .leave(name): return try await leave(name)
        case let .mute(name, on): return try await mute(name, on)
        case let .groupCreate(group, owner, members): return try await createGroup(group, owner: owner, members: members)
        case let .groupAdd(group, member): return try await changeGroup(group, adding: member)
        case let .groupRemove(group, member): return try await changeGroup(group, removing: member)
        case let .meetingCreate(host, open, record): return try await createMeeting(host, open: open, record: record)
        case let .meetingJoin(name): return try await knock(name)
        case let .meetingAdmit(name, letIn): return try await admit(name, letIn)
        case let .meetingRecord(name, recording): return try await record(name, recording)
        case .export: return try await exportRecording()
        case let .expect(expectation): return try await check(expectation)
        }
    }

    // MARK: - Devices

    private func makeDevices(_ declared: [DemoCommand.DeviceDeclaration]) async throws -> Outcome {
        var slots = Set(devices.values.compactMap(\.number).map { VoiceSignature(number: $0).slot })
        var numbers = Set(devices.values.compactMap(\.number))
        var made: [String] = []
        for declaration in declared {
            let number = declaration.number ?? Self.freeNumber(avoiding: slots, numbers)
            slots.insert(VoiceSignature(number: number).slot)
            numbers.insert(number)
            let device = try await makeDevice(declaration.name, number: number)
            made.append("\(device.name) \(number) (voice at \(Int(VoiceSignature(number: number).pitch.rounded())) Hz)")
        }
        return Outcome("keys made on each device: " + made.joined(separator: "; "))
    }

    private func makeGuests(_ names: [String]) async throws -> Outcome {
        for name in names { _ = try await makeDevice(name, number: nil) }
        return Outcome("keys made; guests never register, the server will call them guest-…")
    }

    private func makeDevice(_ name: String, number: String?) async throws -> DemoDevice {
        let world = try requireWorld()
        let location = try ProfileLocation(name: name, home: world.profiles)
        let store = try DeviceStore.open(location, passphrase: nil, create: true)
        _ = try store.initializeKeys()
        let session = try await DeviceSession.open(
            store: store, server: world.server.signalingAddress,
            acceptFingerprint: world.server.certificateFingerprint.description)
        // Every demo device has its camera on, in meetings too (`expect sees`).
        let meetings = try MeetingEngine(session: session, video: try VideoSettings())
        let device = DemoDevice(
            name: name, display: name.prefix(1).uppercased() + name.dropFirst(), number: number, store: store,
            session: session, meetings: meetings, meetingLog: EventLog(following: meetings.events))
        devices[name] = device
        return device
    }

    /// The first +15557NNN no device has, with a voice no other device of the story has
    /// (while there are voices left), so every check can tell who is heard.
    static func freeNumber(avoiding slots: Set<Int>, _ numbers: Set<String>) -> String {
        let candidates = (7001...7999).map { "+1555\($0)" }.filter { !numbers.contains($0) }
        return candidates.first { !slots.contains(VoiceSignature(number: $0).slot) } ?? candidates.first ?? "+15557999"
    }

    private func register(_ names: [String]) async throws -> Outcome {
        var lines: [String] = []
        for name in names {
            var device = try self.device(name)
            guard let number = device.number else { throw DemoFailure("\(name) is a guest: guests are not registered") }
            let registration = try await device.session.register(number: number, name: device.display, invite: nil)
            // Every demo device has its camera on: calls and group calls are video calls (`expect sees`).
            var options = CallOptions()
            options.video = try VideoSettings()
            let calls = try CallEngine(session: device.session, options: options)
            device.callLog = EventLog(following: calls.events)
            await calls.start()
            var groupOptions = GroupCallEngine.Options()
            groupOptions.video = options.video
            let groupCalls = try GroupCallEngine(session: device.session, options: groupOptions)
            device.groupLog = EventLog(following: groupCalls.events)
            await groupCalls.follow()
            device.calls = calls
            device.groups = groupCalls
            devices[name] = device
            if let handle = device.handle { onDevice?(handle) }
            let fingerprint = try device.store.identityPublicKey().shortFingerprint
            lines.append("\(name) is \(registration.number), identity \(fingerprint)")
        }
        return Outcome(lines.joined(separator: "\n") + "\neach uploaded the public halves of its signed prekey and 100 one-time prekeys")
    }

    private func addContacts(_ names: [String]) async throws -> Outcome {
        var added = 0
        for name in names {
            let device = try self.device(name)
            for other in names where other != name {
                let peer = try self.device(other)
                try await device.session.addContact(number: try number(of: peer), name: peer.display)
                added += 1
            }
        }
        return Outcome("\(added) contacts added, each with the identity key the server holds (unverified until compared)")
    }

    /// Both sides compute the safety number from both identity keys; equal numbers are what a
    /// person compares on two screens, and verifying pins the key it was computed over.
    private func verify(_ a: String, _ b: String) async throws -> Outcome {
        let (left, right) = (try device(a), try device(b))
        let (aNumber, bNumber) = (try number(of: left), try number(of: right))
        let (onA, contactOnA) = try await left.session.safetyNumber(with: bNumber)
        let (onB, contactOnB) = try await right.session.safetyNumber(with: aNumber)
        guard onA == onB else {
            throw DemoFailure("safety numbers differ: \(a) sees \(onA), \(b) sees \(onB) — a key was swapped")
        }
        guard let keyOnA = contactOnA.identityKey, let keyOnB = contactOnB.identityKey,
            try left.store.markVerified(number: bNumber, key: keyOnA), try right.store.markVerified(number: aNumber, key: keyOnB)
        else {
            throw DemoFailure("the contacts could not be marked verified")
        }
        return Outcome(
            "both screens show \(onA.groups.prefix(6).joined(separator: " "))\n  \(onA.groups.dropFirst(6).joined(separator: " ")) (60 digits, equal); verified on both sides"
        )
    }

    // MARK: - Lookups

    func requireWorld() throws -> DemoWorld {
        guard let world else { throw DemoFailure("the demo's server is not running") }
        return world
    }

    func device(_ name: String) throws -> DemoDevice {
        guard let device = devices[name] else { throw DemoFailure("\(name) was not made: an earlier line failed") }
        return device
    }

    func number(of device: DemoDevice) throws -> String {
        guard let number = device.number else { throw DemoFailure("\(device.name) is a guest and has no number") }
        return number
    }

    func calls(_ name: String) throws -> (CallEngine, EventLog<CallEngineEvent>) {
        let device = try device(name)
        guard let calls = device.calls, let log = device.callLog else { throw DemoFailure("\(name) is not registered") }
        return (calls, log)
    }

    func groupCalls(_ name: String) throws -> (GroupCallEngine, EventLog<GroupCallEngineEvent>) {
        let device = try device(name)
        guard let groups = device.groups, let log = device.groupLog else { throw DemoFailure("\(name) is not registered") }
        return (groups, log)
    }

    /// How long an action waits for the other side (ringing, a leg coming up): ten seconds, or
    /// the check timeout if that is shorter.
    var stepTimeout: Duration { min(.seconds(10), options.checkTimeout) }

    /// Polls `condition` until it holds or the check timeout passes.
    func waitUntil(_ timeout: Duration? = nil, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + (timeout ?? options.checkTimeout)
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// Why a step did not hold, in words for the transcript.
struct DemoFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
