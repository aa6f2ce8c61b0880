import DuetClient
import Foundation

/// What the terminal client does: it turns keys into intents on the device and its engines
/// (1:1 calls, group calls and meetings side by side on one session), and their news into a
/// new `TUIState`. It owns the state and hands each role to a small controller that works on
/// it in the actor's isolation: `ContactsController`, `GroupsController`, `CallController`,
/// `GroupCallController`, `MeetingController`, `KnockController`. It never waits on the
/// network while handling a key — calls, lookups and adds run as tasks — so a key always
/// gets its reaction at once.
public actor TUIController {
    public internal(set) var state: TUIState
    /// Set by `q` (or a signal): the application loop ends.
    public private(set) var quitRequested = false
    let session: DeviceSession
    let contacts: ContactsController
    let groups: GroupsController
    let calls: CallController
    /// Nil only for a device with no number yet (it cannot be in a group).
    let groupCalls: GroupCallController?
    let meetings: MeetingController
    let knocks: KnockController
    /// When the conversation's media came up (its timer counts from here); one, as there is
    /// one conversation at a time.
    var connectedAt: ContinuousClock.Instant?
    /// The group call's room as its events told it (the pane's rows are built from it).
    var groupRoom: GroupCallRoom
    /// The meeting's room as its events told it.
    var meetingRoom = MeetingRoom()
    /// Knockers whose box the host put aside with Esc: no box pops for them again (`a` in the
    /// meeting pane brings it back).
    var knocksSetAside: Set<String> = []
    var noticesSeen = 0
    var lastRefresh = ContinuousClock.now
    /// Called whenever `state` changed outside a key press (engine news, tasks finishing).
    private var onChange: (@Sendable () -> Void)?

    /// `groupEngine` and `meetingEngine` default to ones the controller makes; it closes them,
    /// made or given, when it quits.
    public init(
        session: DeviceSession, engine: CallEngine, groupEngine: GroupCallEngine? = nil,
        meetingEngine: MeetingEngine? = nil, profile: String, embedded: Bool, notes: [String: String] = [:]
    ) throws {
        self.session = session
        let account = try session.store.account()
        let groupEngine = try groupEngine ?? (account.number == nil ? nil : GroupCallEngine(session: session))
        let meetingEngine = try meetingEngine ?? MeetingEngine(session: session)
        contacts = ContactsController(session: session, notes: notes)
        groups = GroupsController(session: session)
        calls = CallController(engine: engine)
        groupCalls = groupEngine.map(GroupCallController.init)
        meetings = MeetingController(session: session, engine: meetingEngine)
        knocks = KnockController(engine: meetingEngine)
        groupRoom = GroupCallRoom(ownNumber: account.number)
        state = TUIState(
            profile: profile, ownNumber: account.number, ownName: account.displayName,
            server: ServerStatus(address: "\(session.server)", state: .connected, embedded: embedded),
            ownFingerprintShort: try session.identityFingerprint().short)
    }

    /// Starts following the engines; `onChange` asks the application to redraw.
    public func start(onChange: @escaping @Sendable () -> Void) async {
        self.onChange = onChange
        // Presence, and every contact's key looked up again so a change shows at once.
        _ = try? await session.refreshContacts()
        await contacts.refresh(self)
        log(
            "duet started as \(state.ownName.map { "\($0) " } ?? "")\(state.ownNumber ?? "(not registered)") on \(state.server.address)",
            .good)
        let (calls, meetings) = (calls, meetings)
        let events = calls.engine.events
        Task { [weak self] in
            for await event in events {
                guard let self else { return }
                await calls.apply(event, self)
            }
        }
        if let groupCalls {
            let groupEvents = groupCalls.engine.events
            await groupCalls.engine.follow()
            Task { [weak self] in
                for await event in groupEvents {
                    guard let self else { return }
                    await groupCalls.apply(event, self)
                }
            }
        }
        let meetingEvents = meetings.engine.events
        Task { [weak self] in
            for await event in meetingEvents {
                guard let self else { return }
                await meetings.apply(event, self)
            }
        }
    }

    /// Marks the screen dirty (the application's one redraw path draws the newest state).
    func changed() { onChange?() }

    /// `q`: hangs up a call (or leaves the group call or meeting, wiping its keys) first, then
    /// ends the application. A host leaving ends the meeting for everyone.
    public func quit() async {
        if let call = state.call, call.state.isActive { await calls.engine.hangUp() }
        await groupCalls?.engine.close()
        await meetings.engine.close()
        quitRequested = true
    }

    // MARK: - The periodic tick

    /// Every quarter second: the conversation's timer, the server link, notices; contacts every
    /// few seconds. Engine news is applied as it comes, not here.
    public func tick() async {
        tickTimer()
        await groupCalls?.tick(self)
        switch await session.link {
        case .connected: state.server.state = .connected
        case let .reconnecting(attempt): state.server.state = .reconnecting(attempt: attempt)
        case let .failed(reason):
            if state.server.state != .failed(reason) {
                state.message = StatusMessage("server: \(reason)", severity: .error)
            }
            state.server.state = .failed(reason)
        }
        let notices = await session.notices
        for notice in notices.dropFirst(noticesSeen) {
            log(notice.text, Severity(notice.severity))
        }
        noticesSeen = notices.count
        if ContinuousClock.now - lastRefresh > .seconds(3) { await contacts.refresh(self) }
    }

    /// Whole seconds since the media came up, for the connected conversation.
    private func tickTimer() {
        guard let connectedAt else { return }
        let seconds = Int((ContinuousClock.now - connectedAt).components.seconds)
        switch state.conversation {
        case var .call(call) where call.state.isConnected:
            call.elapsedSeconds = seconds
            state.conversation = .call(call)
        case var .group(call) where call.phase == .connected:
            call.elapsedSeconds = seconds
            state.conversation = .group(call)
        case var .meeting(meeting) where meeting.phase == .connected:
            meeting.elapsedSeconds = seconds
            state.conversation = .meeting(meeting)
        default:
            break
        }
    }

    // MARK: - The log

    func log(_ text: String, _ severity: Severity = .info) {
        let time = Date().formatted(.dateTime.hour(.twoDigits(amPM: .omitted)).minute(.twoDigits).second(.twoDigits))
        state.log.append(LogEntry(time: time, text: text, severity: severity))
        if state.log.count > 500 { state.log.removeFirst(state.log.count - 500) }
    }

    /// A line from outside the device — the demo's narration and its checks — on the message
    /// line and in the event log.
    public func narrate(_ text: String, _ severity: Severity = .info) {
        show(text, severity)
        changed()
    }

    func show(_ text: String, _ severity: Severity) {
        state.message = StatusMessage(text, severity: severity)
        log(text, severity)
    }
}

extension CallState {
    var isConnected: Bool { if case .connected = self { true } else { false } }
}
