import DuetClient

/// Keys: each goes to the box on screen if one is up, else to the pane's role. Nothing here
/// waits on the network.
extension TUIController {
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
        case .character("K"): contacts.showKeys(self)
        case .character("H"): contacts.showHistory(self)
        case .escape: state.pane = state.activeCallPane ?? .contact
        case .up, .character("k"): moveSelection(-1)
        case .down, .character("j"): moveSelection(1)
        case .enter, .character("i"): state.pane = .contact
        case .character("c"): callSelected()
        case .character("s"): contacts.showSafetyNumber(self)
        case .character("a") where state.pane == .meeting && state.meeting?.knocking.isEmpty == false:
            knocks.show(setAsideToo: true, self)
        case .character("a"): state.overlay = .addContact(AddContactPrompt())
        case .character("g"): state.overlay = .createGroup(CreateGroupPrompt())
        case .character("+"): groups.promptMember(.add, self)
        case .character("-"): groups.promptMember(.remove, self)
        case .character("d"):
            if let contact = state.selectedContact { state.overlay = .confirmRemove(contact) }
        case .character("v") where state.pane == .safetyNumber: contacts.verifyShown(self)
        case .character("u") where state.pane == .safetyNumber: contacts.unverifyShown(self)
        case .character("n"): meetings.promptNew(self)
        case .character("J"): meetings.promptJoin(self)
        case .character("R"): meetings.toggleRecording(self)
        case .character("m"): await toggleMute()
        case .character("V") where state.pane == .call: await calls.toggleCamera(self)
        case .character("V") where state.pane == .groupCall: await groupCalls?.toggleCamera(self)
        case .character("V") where state.pane == .meeting: await meetings.toggleCamera(self)
        case .character("h"): await hangUp()
        default: break
        }
    }

    private func handle(_ key: KeyPress, in overlay: TUIState.Overlay) async {
        switch overlay {
        case .help:
            if [.escape, .enter, .character("?"), .character("q")].contains(key) { state.overlay = nil }
        case let .incoming(ringing):
            await calls.answer(ringing, key, self)
        case let .addContact(prompt):
            contacts.editAdd(prompt, key, self)
        case let .confirmRemove(contact):
            switch key {
            case .character("y"): contacts.remove(contact, self)
            case .character("n"), .escape: state.overlay = nil
            default: break
            }
        case let .keyChangedWarning(contact):
            switch key {
            case .character("s"):
                state.overlay = nil
                contacts.showSafetyNumber(of: contact, self)
            case .character("c"):
                state.overlay = nil
                calls.call(contact, acceptKeyChange: true, self)
            case .escape, .character("n"): state.overlay = nil
            default: break
            }
        case let .incomingGroupCall(ringing):
            groupCalls?.answer(ringing, key, self)
        case let .createGroup(prompt):
            groups.editCreate(prompt, key, self)
        case let .groupMember(prompt):
            groups.editMember(prompt, key, self)
        case let .createMeeting(prompt):
            meetings.editCreate(prompt, key, self)
        case let .joinMeeting(prompt):
            meetings.editJoin(prompt, key, self)
        case let .knock(prompt):
            knocks.answer(prompt, key, self)
        }
    }

    /// `c`: the highlighted group's call, or the highlighted contact (warned first about a
    /// changed key).
    private func callSelected() {
        if let group = state.selectedGroup {
            guard !state.inCall else {
                show("already in a call: hang up (h) first", .warning)
                return
            }
            guard let groupCalls else {
                show("this device has no number yet, so it cannot be in a group call", .error)
                return
            }
            groupCalls.call(group, self)
            return
        }
        guard let contact = state.selectedContact else {
            show("no contact selected: press a to add one", .warning)
            return
        }
        if case .keyChanged = contact.trust {
            state.overlay = .keyChangedWarning(contact)
            return
        }
        calls.call(contact, acceptKeyChange: false, self)
    }

    private func moveSelection(_ step: Int) {
        let rows = state.contacts.count + state.groups.count
        guard rows > 0 else { return }
        state.selected = min(max(state.selected + step, 0), rows - 1)
        if state.pane == .safetyNumber || state.pane == .keys { state.pane = .contact }
    }

    /// `h`: leaves the meeting or group call in progress, or hangs up the 1:1 call.
    private func hangUp() async {
        switch state.conversation {
        case let .meeting(meeting) where meeting.phase.isActive: meetings.leave(self)
        case let .group(call) where call.phase.isActive: groupCalls?.leave(self)
        default: await calls.engine.hangUp()
        }
    }

    /// `m`: mutes or unmutes this device in the conversation in progress.
    private func toggleMute() async {
        switch state.conversation {
        case var .group(call) where call.phase.isActive:
            call.muted.toggle()
            state.conversation = .group(call)
            await groupCalls?.engine.setMuted(call.muted)
            log(call.muted ? "muted in the group call: sending silence" : "unmuted")
        case var .meeting(meeting) where meeting.phase.isActive:
            meeting.muted.toggle()
            state.conversation = .meeting(meeting)
            await meetings.engine.setMuted(meeting.muted)
            log(meeting.muted ? "muted in the meeting: sending silence" : "unmuted")
        case var .call(call) where call.state.isActive:
            call.muted.toggle()
            state.conversation = .call(call)
            await calls.engine.setMuted(call.muted)
            log(call.muted ? "muted: sending silence" : "unmuted")
        default:
            break
        }
    }
}
