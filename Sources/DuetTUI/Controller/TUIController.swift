import DuetClient
import DuetCrypto
import DuetWire
import Foundation

/// What the terminal client does (DESIGN §6): it turns keys into intents on the device and
/// its call engines (1:1 and group, side by side on one session), and the engines' and
/// server's news into a new `TUIState`. It never waits
/// on the network while handling a key — calls, lookups and adds run as tasks — so a key
/// always gets its reaction at once.
public actor TUIController {
    public internal(set) var state: TUIState
    /// Set by `q` (or a signal): the application loop ends.
    public private(set) var quitRequested = false
    let session: DeviceSession
    let engine: CallEngine
    /// Group calls; nil only for a device with no number yet (it cannot be in a group).
    let groupEngine: GroupCallEngine?
    /// Meetings: made here or joined by link on this session's server.
    let meetingEngine: MeetingEngine
    /// Notes shown for some contacts (the embedded bots say what they do).
    let notes: [String: String]
    var connectedAt: ContinuousClock.Instant?
    var groupConnectedAt: ContinuousClock.Instant?
    var meetingConnectedAt: ContinuousClock.Instant?
    /// Knockers whose box the host put aside with Esc: no box pops for them again (`a` in the
    /// meeting pane brings it back).
    var knocksSetAside: Set<String> = []
    var noticesSeen = 0
    var lastRefresh = ContinuousClock.now
    /// Called whenever `state` changed outside a key press (engine news, tasks finishing).
    private var onChange: (@Sendable () -> Void)?

    /// `groupEngine` and `meetingEngine` default to ones the controller makes (and closes when
    /// it quits).
    public init(
        session: DeviceSession, engine: CallEngine, groupEngine: GroupCallEngine? = nil,
        meetingEngine: MeetingEngine? = nil, profile: String, embedded: Bool, notes: [String: String] = [:]
    ) throws {
        self.session = session
        self.engine = engine
        self.notes = notes
        let account = try session.store.account()
        self.groupEngine = try groupEngine ?? (account.number == nil ? nil : GroupCallEngine(session: session))
        self.meetingEngine = try meetingEngine ?? MeetingEngine(session: session)
        state = TUIState(
            profile: profile, ownNumber: account.number, ownName: account.displayName,
            server: ServerStatus(address: session.server.description, state: .connected, embedded: embedded),
            ownFingerprintShort: try session.store.identityPublicKey().shortFingerprint)
    }

    /// Starts following the call engine; `onChange` asks the application to redraw.
    public func start(onChange: @escaping @Sendable () -> Void) async {
        self.onChange = onChange
        // Presence, and every contact's key looked up again so a change shows at once.
        _ = try? await session.refreshContacts()
        await refreshContacts()
        log(
            "duet started as \(state.ownName.map { "\($0) " } ?? "")\(state.ownNumber ?? "(not registered)") on \(state.server.address)",
            .good)
        let events = engine.events
        Task { [weak self] in
            for await event in events { await self?.apply(event) }
        }
        if let groupEngine {
            let groupEvents = groupEngine.events
            await groupEngine.follow()
            Task { [weak self] in
                for await event in groupEvents { await self?.apply(event) }
            }
        }
        let meetingEvents = meetingEngine.events
        Task { [weak self] in
            for await event in meetingEvents { await self?.apply(event) }
        }
    }

    func changed() { onChange?() }

    // MARK: - Keys

    /// Applies one key. Returns at once; network work continues in tasks.
    public func handle(_ key: KeyPress) async {
        if case .resize = key { return }
        if let overlay = state.overlay {
            await handle(key, in: overlay)
            return
        }
        state.message = nil
        switch key {
        case .character("?"): state.overlay = .help
        case .character("q"): await quit()
        case .character("l"): state.showLog.toggle()
        case .character("K"): showKeys()
        case .escape: state.pane = activeCallPane ?? .contact
        case .up, .character("k"): moveSelection(-1)
        case .down, .character("j"): moveSelection(1)
        case .enter, .character("i"): state.pane = .contact
        case .character("c"): callSelected(acceptKeyChange: false)
        case .character("s"): showSafetyNumber()
        case .character("a") where state.pane == .meeting && state.meeting?.knocking.isEmpty == false:
            showKnock(setAsideToo: true)
        case .character("a"): state.overlay = .addContact(AddContactPrompt())
        case .character("g"): state.overlay = .createGroup(CreateGroupPrompt())
        case .character("+"): promptGroupMember(.add)
        case .character("-"): promptGroupMember(.remove)
        case .character("d"):
            if let contact = state.selectedContact { state.overlay = .confirmRemove(contact) }
        case .character("v") where state.pane == .safetyNumber: verifyShownContact()
        case .character("u") where state.pane == .safetyNumber: unverifyShownContact()
        case .character("n"): promptNewMeeting()
        case .character("J"): promptJoinMeeting()
        case .character("R"): toggleRecording()
        case .character("m"): await toggleMute()
        case .character("h"):
            if state.meeting?.phase.isActive == true {
                leaveMeeting()
            } else if state.groupCall?.phase.isActive == true {
                leaveGroupCall()
            } else {
                await engine.hangUp()
            }
        default: break
        }
    }

    private func handle(_ key: KeyPress, in overlay: TUIState.Overlay) async {
        switch overlay {
        case .help:
            if [.escape, .enter, .character("?"), .character("q")].contains(key) { state.overlay = nil }
        case .incoming:
            switch key {
            case .character("a"), .enter:
                state.overlay = nil
                state.pane = .call
                if state.groupCall?.phase.isActive == true { await leaveGroupCallNow() }
                if state.meeting?.phase.isActive == true { await meetingEngine.leave() }
                await engine.accept()
            case .character("d"), .escape:
                state.overlay = nil
                await engine.decline()
            default: break
            }
        case let .addContact(prompt):
            editAddContact(prompt, key)
        case let .confirmRemove(contact):
            switch key {
            case .character("y"): removeContact(contact)
            case .character("n"), .escape: state.overlay = nil
            default: break
            }
        case let .keyChangedWarning(contact):
            switch key {
            case .character("s"):
                state.overlay = nil
                showSafetyNumber(of: contact)
            case .character("c"):
                state.overlay = nil
                call(contact, acceptKeyChange: true)
            case .escape, .character("n"): state.overlay = nil
            default: break
            }
        case let .incomingGroupCall(ringing):
            answerGroupCall(ringing, key)
        case let .createGroup(prompt):
            editCreateGroup(prompt, key)
        case let .groupMember(prompt):
            editGroupMember(prompt, key)
        case let .createMeeting(prompt):
            editCreateMeeting(prompt, key)
        case let .joinMeeting(prompt):
            editJoinMeeting(prompt, key)
        case let .knock(prompt):
            answerKnock(prompt, key)
        }
    }

    /// The pane of the call in progress, if one is.
    private var activeCallPane: TUIState.Pane? {
        if state.meeting?.phase.isActive == true { return .meeting }
        if state.groupCall?.phase.isActive == true { return .groupCall }
        if state.call?.state.isActive == true { return .call }
        return nil
    }

    private func moveSelection(_ step: Int) {
        let rows = state.contacts.count + state.groups.count
        guard rows > 0 else { return }
        state.selected = min(max(state.selected + step, 0), rows - 1)
        if state.pane == .safetyNumber || state.pane == .keys { state.pane = .contact }
    }

    /// `q`: hangs up a call (or leaves the group call or meeting, wiping its keys) first, then
    /// ends the application. A host leaving ends the meeting for everyone.
    public func quit() async {
        if let call = state.call, call.state.isActive { await engine.hangUp() }
        await groupEngine?.close()
        await meetingEngine.close()
        quitRequested = true
    }

    private func toggleMute() async {
        if var call = state.groupCall, call.phase.isActive {
            call.muted.toggle()
            state.groupCall = call
            await groupEngine?.setMuted(call.muted)
            log(call.muted ? "muted in the group call: sending silence" : "unmuted")
            return
        }
        if var meeting = state.meeting, meeting.phase.isActive {
            meeting.muted.toggle()
            state.meeting = meeting
            await meetingEngine.setMuted(meeting.muted)
            log(meeting.muted ? "muted in the meeting: sending silence" : "unmuted")
            return
        }
        guard var call = state.call, call.state.isActive else { return }
        call.muted.toggle()
        state.call = call
        await engine.setMuted(call.muted)
        log(call.muted ? "muted: sending silence" : "unmuted")
    }

    // MARK: - The periodic tick

    /// Every quarter second: the call timer, the server link, notices; contacts every few seconds.
    public func tick() async {
        if let connectedAt, var call = state.call, case .connected = call.state {
            call.elapsedSeconds = Int((ContinuousClock.now - connectedAt).components.seconds)
            state.call = call
        }
        await tickGroupCall()
        await tickMeeting()
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
        if ContinuousClock.now - lastRefresh > .seconds(3) { await refreshContacts() }
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
