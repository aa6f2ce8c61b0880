import DuetClient
import Foundation

/// Group calls (DESIGN §5 "Group"): starting one in the highlighted group, joining one that
/// rings, leaving, and turning the group call engine's news and snapshots into the pane's
/// rows and the event log's lines.
extension TUIController {
    /// `c` on a group: joins the group's call if one is ringing this device, else starts one.
    func callGroup(_ group: GroupRow) {
        guard !state.inCall else {
            show("already in a call: hang up (h) first", .warning)
            return
        }
        guard let groupEngine else {
            show("this device has no number yet, so it cannot be in a group call", .error)
            return
        }
        openGroupCall(groupID: group.id, name: group.name)
        Task {
            let ringing = await groupEngine.invitations.first { $0.group.id == group.id }
            await enterGroupCall(name: group.name) {
                if let ringing { try await groupEngine.join(callID: ringing.callID) } else { try await groupEngine.start(group: group.id) }
            }
        }
    }

    /// Join or dismiss the ringing group call's box.
    func answerGroupCall(_ ringing: IncomingGroupCall, _ key: KeyPress) {
        switch key {
        case .character("a"), .enter:
            state.overlay = nil
            guard let groupEngine, !state.inCall else {
                show("already in a call: hang up (h) first", .warning)
                return
            }
            openGroupCall(groupID: "", name: ringing.groupName)
            Task { await enterGroupCall(name: ringing.groupName) { try await groupEngine.join(callID: ringing.callID) } }
        case .character("d"), .escape:
            state.overlay = nil
            log("not joining the group call in \(ringing.groupName); c on the group joins it while it lasts")
        default:
            break
        }
    }

    /// The pane shows the call at once, before the server has answered.
    private func openGroupCall(groupID: String, name: String) {
        state.groupCall = GroupCallView(groupID: groupID, groupName: name)
        state.pane = .groupCall
        groupConnectedAt = nil
    }

    private func enterGroupCall(name: String, _ enter: @Sendable () async throws -> GroupCallInfo) async {
        do {
            let info = try await enter()
            state.groupCall?.groupID = info.group.id
            state.groupCall?.callID = info.callID
            log("in the group call in \(info.group.name) (call \(info.callID)): members \(names(info.group.members))")
            await refreshGroupCall()
        } catch {
            state.groupCall?.phase = .ended(reason: "could not join: \(error)")
            show("could not join the group call in \(name): \(error)", .error)
        }
        changed()
    }

    /// `h` during a group call: leaves in the background; the log shows the keys wiped.
    func leaveGroupCall() {
        log("leaving the group call")
        Task { await leaveGroupCallNow() }
    }

    func leaveGroupCallNow() async {
        await groupEngine?.leave()
    }

    /// Every quarter second during a group call: the timer, the rows, and a ringing box whose
    /// call has emptied.
    func tickGroupCall() async {
        if let groupConnectedAt, state.groupCall?.phase == .connected {
            state.groupCall?.elapsedSeconds = Int((ContinuousClock.now - groupConnectedAt).components.seconds)
        }
        if state.groupCall?.phase.isActive == true { await refreshGroupCall() }
        if case let .incomingGroupCall(ringing)? = state.overlay, let groupEngine,
            await !groupEngine.invitations.contains(where: { $0.callID == ringing.callID }),
            state.overlay == .incomingGroupCall(ringing)
        {
            state.overlay = nil
            log("the group call in \(ringing.groupName) ended before you joined")
        }
    }

    /// Rebuilds the pane's rows from the engine's snapshot, names looked up in the contacts.
    func refreshGroupCall() async {
        guard let snapshot = await groupEngine?.snapshot(), var view = state.groupCall, view.phase.isActive,
            view.callID == nil || view.callID == snapshot.callID
        else { return }
        view.callID = snapshot.callID
        view.groupID = snapshot.group.id
        view.groupName = snapshot.group.name
        view.epoch = snapshot.epoch
        let later = snapshot.rekeys.filter { $0 != .joined }
        view.rekeys = later.count
        view.lastRekeyCause = later.last.map(Self.shortCause)
        let others = snapshot.participants.filter { $0 != state.ownNumber }
        view.participants = others.map { number in
            let hearing = snapshot.hearing[number]
            return GroupParticipantRow(
                number: number, name: contactName(number), heard: hearing?.heard ?? false,
                level: hearing?.level)
        }
        var members = snapshot.group.members
        if !members.contains(snapshot.group.owner) { members.insert(snapshot.group.owner, at: 0) }
        view.invited = members.filter { $0 != state.ownNumber && !others.contains($0) }.map { number in
            GroupInvitedRow(
                number: number, name: contactName(number),
                hasKey: snapshot.epoch != nil && snapshot.keyGiven[number] == snapshot.epoch)
        }
        state.groupCall = view
    }

    /// News from the group call engine: the log gets every event but the hearing reports.
    func apply(_ event: GroupCallEngineEvent) async {
        switch event {
        case let .ringing(info) where info.callID == state.groupCall?.callID:
            // The call this device just left goes on without it: no box, c on the group rejoins.
            log("the group call in \(info.group.name) goes on without you; c on the group rejoins it")
        case let .ringing(info):
            let inRoom = names(info.participants)
            log("group call in \(info.group.name) is ringing you; in it: \(inRoom)", .good)
            if !state.inCall, state.overlay == nil || state.overlay == .help {
                let members = Set(info.group.members + [info.group.owner])
                state.overlay = .incomingGroupCall(
                    IncomingGroupCall(
                        callID: info.callID, groupName: info.group.name,
                        participants: info.participants.map(displayName),
                        memberCount: members.count))
            }
        case let .mediaConnected(_, route):
            groupConnectedAt = ContinuousClock.now
            state.groupCall?.phase = .connected
            state.groupCall?.elapsedSeconds = 0
            log("media: DTLS-SRTP leg to the SFU up over \(route); voices travel in it SFrame-encrypted end to end", .good)
        case .hearing:
            break
        case let .removedFromGroup(group, by):
            state.groupCall?.phase = .ended(reason: "\(displayName(by)) removed you from \(group)")
            show("\(displayName(by)) removed you from \(group): you are out of its call", .warning)
        case .keysWiped:
            state.groupCall?.keysWiped = true
            log("group call keys wiped (every sender key, yours and the members')", .good)
        case .ended:
            groupConnectedAt = nil
            if state.groupCall?.phase.isActive == true { state.groupCall?.phase = .ended(reason: nil) }
            log("left the group call\(state.groupCall.map { " in \($0.groupName)" } ?? "")")
        case let .notice(notice):
            log("group call: \(notice.text)", Severity(notice.severity))
        default:
            log(logLine(event))
        }
        if case .ringing = event {} else { await refreshGroupCall() }
        changed()
    }

    /// Joins, leaves, member changes, rekeys and keys received, with names for numbers.
    private func logLine(_ event: GroupCallEngineEvent) -> String {
        switch event {
        case let .joined(member): "\(displayName(member)) joined the group call"
        case let .left(member): "\(displayName(member)) left the group call"
        case let .memberAdded(member, by): "\(displayName(member)) added to the group by \(displayName(by))"
        case let .memberRemoved(member, by): "\(displayName(member)) removed from the group by \(displayName(by))"
        case let .rekey(cause, epoch): "rekey: now sending under key epoch \(epoch) (\(cause.explanation))"
        case let .keyReceived(member, epoch): "key: \(displayName(member))'s sender key epoch \(epoch) received"
        case let .rejoined(_, participants):
            "back in the group call after losing the server (in it so far: \(names(participants))); new media leg and new key follow"
        default: event.description
        }
    }

    /// Why a key changed, short enough for the pane.
    static func shortCause(_ cause: RekeyCause) -> String {
        switch cause {
        case .joined: "joined"
        case .memberLeft: "a member left"
        case .memberAdded: "a member was added"
        case .rejoined: "rejoined"
        }
    }

    /// The contact's name for `number`, if the store knows one.
    func contactName(_ number: String) -> String? {
        state.contacts.first { $0.number == number }?.name
    }

    /// "Tone Alto (+15550002)", "you", or the bare number.
    func displayName(_ number: String) -> String {
        if number == state.ownNumber { return "you" }
        return contactName(number).map { "\($0) (\(number))" } ?? number
    }

    func names(_ numbers: [String]) -> String {
        numbers.isEmpty ? "nobody yet" : numbers.map(displayName).joined(separator: ", ")
    }
}
