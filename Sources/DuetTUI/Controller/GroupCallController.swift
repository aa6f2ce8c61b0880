import DuetClient
import Foundation

/// Group calls: starting one in the highlighted group, joining one that rings, leaving, and
/// the group call engine's events applied to the pane (through `GroupCallRoom`) and the log
/// as they come — the group as it is after a rejoin included (`.rejoined` carries it), so the
/// engine's state is never read back.
struct GroupCallController: Sendable {
    let engine: GroupCallEngine

    /// `c` on a group: joins the group's call if one is ringing this device, else starts one.
    func call(_ group: GroupRow, _ tui: isolated TUIController) {
        open(name: group.name, groupID: group.id, tui)
        let engine = engine
        Task {
            let ringing = await engine.invitations.first { $0.group.id == group.id }
            await enter(name: group.name, tui) {
                if let ringing { try await engine.join(callID: ringing.callID) } else { try await engine.start(group: group.id) }
            }
        }
    }

    /// Join or dismiss the ringing group call's box.
    func answer(_ ringing: IncomingGroupCall, _ key: KeyPress, _ tui: isolated TUIController) {
        switch key {
        case .character("a"), .enter:
            tui.state.overlay = nil
            guard !tui.state.inCall else {
                tui.show("already in a call: hang up (h) first", .warning)
                return
            }
            open(name: ringing.groupName, groupID: "", tui)
            let engine = engine
            Task { await enter(name: ringing.groupName, tui) { try await engine.join(callID: ringing.callID) } }
        case .character("d"), .escape:
            tui.state.overlay = nil
            tui.log("not joining the group call in \(ringing.groupName); c on the group joins it while it lasts")
        default:
            break
        }
    }

    /// The pane shows the call at once, before the server has answered.
    private func open(name: String, groupID: String, _ tui: isolated TUIController) {
        tui.state.conversation = .group(GroupCallView(groupID: groupID, groupName: name))
        tui.state.pane = .groupCall
        tui.connectedAt = nil
        tui.groupRoom = GroupCallRoom(ownNumber: tui.state.ownNumber)
    }

    private func enter(name: String, _ tui: isolated TUIController, _ enter: @Sendable () async throws -> GroupCallInfo) async {
        do {
            let info = try await enter()
            update(tui) { view, room, names in room.enter(info, view: &view, names: names) }
            tui.log("in the group call in \(info.group.name) (call \(info.callID)): members \(tui.state.names(info.group.members))")
        } catch {
            tui.state.groupCall?.phase = .ended(reason: "could not join: \(error)")
            tui.show("could not join the group call in \(name): \(error)", .error)
        }
        tui.changed()
    }

    /// `V` in a group call: this camera off or on; the others' tiles say "camera off".
    func toggleCamera(_ tui: isolated TUIController) async {
        guard tui.state.groupCall?.phase.isActive == true, let on = await engine.cameraOn else {
            tui.show("no camera in this call", .warning)
            return
        }
        guard await engine.setCamera(on: !on) else { return }
        var video = tui.state.groupCall?.video ?? GroupVideo()
        video.cameraSwitched(on: !on)
        tui.state.groupCall?.video = video
        tui.log(on ? "camera off: the others see \"camera off\"" : "camera on")
    }

    /// `h` during a group call: leaves in the background; the log shows the keys wiped.
    func leave(_ tui: isolated TUIController) {
        tui.log("leaving the group call")
        let engine = engine
        Task { await engine.leave() }
    }

    /// Every quarter second: a ringing box whose call has emptied goes.
    func tick(_ tui: isolated TUIController) async {
        guard case let .incomingGroupCall(ringing)? = tui.state.overlay,
            await !engine.invitations.contains(where: { $0.callID == ringing.callID }),
            tui.state.overlay == .incomingGroupCall(ringing)
        else { return }
        tui.state.overlay = nil
        tui.log("the group call in \(ringing.groupName) ended before you joined")
    }

    /// News from the group call engine: the pane takes every event, the log all but the
    /// hearing reports and keys given.
    func apply(_ event: GroupCallEngineEvent, _ tui: isolated TUIController) async {
        switch event {
        case let .ringing(info) where info.callID == tui.state.groupCall?.callID:
            // The call this device just left goes on without it: no box, c on the group rejoins.
            tui.log("the group call in \(info.group.name) goes on without you; c on the group rejoins it")
        case let .ringing(info):
            ring(info, tui)
        case let .mediaConnected(_, route):
            if tui.state.groupCall != nil { tui.connectedAt = ContinuousClock.now }
            tui.log("media: DTLS-SRTP leg to the SFU up over \(route); voices travel in it SFrame-encrypted end to end", .good)
        case .hearing, .keyGiven, .seeing, .pictures:
            break
        case let .removedFromGroup(group, by):
            tui.state.groupCall?.phase = .ended(reason: "\(tui.state.displayName(by)) removed you from \(group)")
            tui.show("\(tui.state.displayName(by)) removed you from \(group): you are out of its call", .warning)
        case .keysWiped:
            tui.log("group call keys wiped (every sender key, yours and the members')", .good)
        case .ended:
            tui.log("left the group call\(tui.state.groupCall.map { " in \($0.groupName)" } ?? "")")
        case let .notice(notice):
            tui.log("group call: \(notice.text)", Severity(notice.severity))
        default:
            tui.log(logLine(event, tui.state))
        }
        update(tui) { view, room, names in room.apply(event, to: &view, names: names) }
        tui.changed()
    }

    /// The box for a call ringing this device, unless it is busy or another box is up.
    private func ring(_ info: GroupCallInfo, _ tui: isolated TUIController) {
        tui.log("group call in \(info.group.name) is ringing you; in it: \(tui.state.names(info.participants))", .good)
        guard !tui.state.inCall, tui.state.overlay == nil || tui.state.overlay == .help else { return }
        let members = Set(info.group.members + [info.group.owner])
        tui.state.overlay = .incomingGroupCall(
            IncomingGroupCall(
                callID: info.callID, groupName: info.group.name, participants: info.participants.map(tui.state.displayName),
                memberCount: members.count))
    }

    /// Runs `body` on the group call's view and room, if the conversation is a group call.
    private func update(
        _ tui: isolated TUIController, _ body: (inout GroupCallView, inout GroupCallRoom, (String) -> String?) -> Void
    ) {
        guard case var .group(view) = tui.state.conversation else { return }
        let state = tui.state
        body(&view, &tui.groupRoom, state.contactName)
        tui.state.conversation = .group(view)
    }

    /// Joins, leaves, member changes, rekeys and keys received, with names for numbers.
    private func logLine(_ event: GroupCallEngineEvent, _ state: TUIState) -> String {
        switch event {
        case let .joined(member): "\(state.displayName(member)) joined the group call"
        case let .left(member): "\(state.displayName(member)) left the group call"
        case let .memberAdded(member, by): "\(state.displayName(member)) added to the group by \(state.displayName(by))"
        case let .memberRemoved(member, by): "\(state.displayName(member)) removed from the group by \(state.displayName(by))"
        case let .rekey(cause, epoch): "rekey: now sending under key epoch \(epoch) (\(cause.explanation))"
        case let .keyReceived(member, epoch): "key: \(state.displayName(member))'s sender key epoch \(epoch) received"
        case let .rejoined(_, _, participants):
            "back in the group call after losing the server (in it so far: \(state.names(participants))); new media leg and new key follow"
        default: event.description
        }
    }
}
