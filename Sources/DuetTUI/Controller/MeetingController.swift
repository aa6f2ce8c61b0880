import DuetClient
import Foundation

/// Meetings: `n` makes one (the box asks open? record?), `J` knocks with a pasted link, `R`
/// switches recording for everyone, `h` leaves; the meeting engine's events are applied to
/// the pane (through `MeetingRoom`) and the log as they come — the room as it stands when this
/// device gets in too (`.entered`: after making or joining, when admitted, and back after
/// losing the server), so the engine is never read back. Only links to this session's own
/// server are joined.
struct MeetingController: Sendable {
    let session: DeviceSession
    let engine: MeetingEngine

    /// `n`: the new-meeting box, unless a call or meeting is in progress.
    func promptNew(_ tui: isolated TUIController) {
        guard !tui.state.inCall else {
            tui.show("already in a call or meeting: hang up (h) first", .warning)
            return
        }
        tui.state.overlay = .createMeeting(CreateMeetingPrompt())
    }

    /// `J`: the join box, the name others will see filled in with this device's own.
    func promptJoin(_ tui: isolated TUIController) {
        guard !tui.state.inCall else {
            tui.show("already in a call or meeting: hang up (h) first", .warning)
            return
        }
        tui.state.overlay = .joinMeeting(JoinMeetingPrompt(name: tui.state.ownName ?? tui.state.ownNumber ?? ""))
    }

    /// `o` and `r` switch; Enter makes the meeting.
    func editCreate(_ prompt: CreateMeetingPrompt, _ key: KeyPress, _ tui: isolated TUIController) {
        var prompt = prompt
        switch key {
        case .escape:
            tui.state.overlay = nil
            return
        case .character("o"): prompt.open.toggle()
        case .character("r"): prompt.record.toggle()
        case .enter:
            tui.state.overlay = nil
            create(prompt, tui)
            return
        default: break
        }
        tui.state.overlay = .createMeeting(prompt)
    }

    private func create(_ prompt: CreateMeetingPrompt, _ tui: isolated TUIController) {
        open(MeetingView(isHost: true, recording: prompt.record), tui)
        tui.knocksSetAside = []
        tui.log(
            "making a meeting (\(prompt.open ? "open: anyone with the link comes in" : "people knock and you admit them")"
                + (prompt.record ? ", recorded from the start" : "") + ")")
        let (engine, name) = (engine, tui.state.ownName)
        Task {
            do {
                let link = try await engine.create(open: prompt.open, record: prompt.record, name: name)
                tui.state.meeting?.link = link.description
                tui.state.meeting?.code = link.code
            } catch {
                tui.state.meeting?.phase = .ended(reason: "could not make the meeting: \(error)")
                tui.show("could not make a meeting: \(error)", .error)
            }
            tui.changed()
        }
    }

    /// Typing or pasting the link (and, after Tab, the name); Enter knocks.
    func editJoin(_ prompt: JoinMeetingPrompt, _ key: KeyPress, _ tui: isolated TUIController) {
        var prompt = prompt
        switch key {
        case .escape:
            tui.state.overlay = nil
            return
        case .tab:
            prompt.field = prompt.field == .link ? .name : .link
        case .backspace:
            if prompt.field == .link { _ = prompt.link.popLast() } else { _ = prompt.name.popLast() }
        case .enter:
            switch checkJoin(prompt, tui.state) {
            case let .failure(problem):
                prompt.error = problem.text
                if problem.isAboutName { prompt.field = .name }
            case let .success(link):
                tui.state.overlay = nil
                join(link, name: prompt.name.trimmingCharacters(in: .whitespaces), tui)
                return
            }
        case let .character(character):
            guard !character.isNewline else { break }
            if prompt.field == .link {
                if prompt.link.count < 300 { prompt.link.append(character) }
            } else if prompt.name.count < 40 {
                prompt.name.append(character)
            }
        default:
            break
        }
        tui.state.overlay = .joinMeeting(prompt)
    }

    struct JoinProblem: Error {
        var text: String
        var isAboutName = false
    }

    /// The link, or why it cannot be joined from here: not a link, another server's, or no
    /// name for a device that has no number (a guest must give one).
    func checkJoin(_ prompt: JoinMeetingPrompt, _ state: TUIState) -> Result<MeetingLink, JoinProblem> {
        let link: MeetingLink
        do { link = try MeetingLink(parsing: prompt.link) } catch { return .failure(JoinProblem(text: error.description)) }
        guard ServerAddress.same(link.server, session.server) else {
            return .failure(
                JoinProblem(
                    text: "this link is for the server \(link.server); this version joins meetings on "
                        + "your own server (\(session.server)) only: in a shell, duet meeting join LINK --name NAME"))
        }
        if !session.pinnedCertificateMatches(link) {
            return .failure(JoinProblem(text: DeviceSessionError.linkCertificateMismatch("\(link.server)").description))
        }
        if state.ownNumber == nil, prompt.name.trimmingCharacters(in: .whitespaces).isEmpty {
            return .failure(JoinProblem(text: "write the name the others will see (you join as a guest)", isAboutName: true))
        }
        return .success(link)
    }

    private func join(_ link: MeetingLink, name: String, _ tui: isolated TUIController) {
        open(MeetingView(link: link.description, code: link.code, isHost: false), tui)
        // A registered device keeps its number's identity; the name is only what others see.
        let (engine, shownName) = (engine, name.isEmpty ? nil : name)
        tui.log("knocking at \(link)")
        Task {
            do {
                try await engine.join(link, name: shownName)
            } catch {
                tui.state.meeting?.phase = .ended(reason: "could not knock: \(error)")
                tui.show("could not join \(link.code): \(error)", .error)
            }
            tui.changed()
        }
    }

    /// The pane shows the meeting at once, before the server has answered.
    private func open(_ view: MeetingView, _ tui: isolated TUIController) {
        tui.state.conversation = .meeting(view)
        tui.state.pane = .meeting
        tui.connectedAt = nil
        tui.meetingRoom = MeetingRoom()
    }

    /// `R`: recording on or off, for everyone (any participant may); the engine's
    /// `.recording` event shows the answer.
    func toggleRecording(_ tui: isolated TUIController) {
        guard let meeting = tui.state.meeting, meeting.phase.isActive else {
            tui.show("R records a meeting you are in: make one (n) or join one (J) first", .warning)
            return
        }
        guard meeting.isInside else {
            tui.show("you are not in the meeting yet: the host has to let you in", .warning)
            return
        }
        let (engine, on) = (engine, !meeting.recording)
        tui.log(on ? "asking the server to record the meeting" : "asking the server to stop recording")
        Task {
            do {
                try await engine.record(on)
            } catch {
                tui.show("could not \(on ? "start" : "stop") recording: \(error)", .error)
            }
            tui.changed()
        }
    }

    /// `h` in a meeting: leaves in the background (as host, the meeting ends for everyone).
    /// `V` in a meeting: this camera off or on; the others' tiles say "camera off".
    func toggleCamera(_ tui: isolated TUIController) async {
        guard tui.state.meeting?.isInside == true, let on = await engine.cameraOn else {
            tui.show("no camera in this meeting", .warning)
            return
        }
        guard await engine.setCamera(on: !on) else { return }
        var video = tui.state.meeting?.video ?? GroupVideo()
        video.cameraSwitched(on: !on)
        tui.state.meeting?.video = video
        tui.log(on ? "camera off: the others see \"camera off\"" : "camera on")
    }

    func leave(_ tui: isolated TUIController) {
        tui.log(tui.state.meeting?.isHost == true ? "leaving the meeting, which ends it for everyone" : "leaving the meeting")
        let engine = engine
        Task { await engine.leave() }
    }

    /// Runs `body` on the meeting's view and room, if the conversation is a meeting.
    func update(_ tui: isolated TUIController, _ body: (inout MeetingView, inout MeetingRoom, (String) -> String?) -> Void) {
        guard case var .meeting(view) = tui.state.conversation else { return }
        let state = tui.state
        body(&view, &tui.meetingRoom, state.contactName)
        tui.state.conversation = .meeting(view)
    }
}
