import DuetClient
import DuetWire
import Foundation

/// Meetings (DESIGN §5 "Meeting"): `n` makes one (the box asks open? record?), `J` knocks with
/// a pasted link, the host's knock box admits or denies, `R` switches recording for everyone,
/// `h` leaves. The meeting engine's news and snapshots become the meeting pane's rows and the
/// event log's lines. Only links to this session's own server are joined in this version.
extension TUIController {
    /// `n`: the new-meeting box, unless a call or meeting is in progress.
    func promptNewMeeting() {
        guard !state.inCall else {
            show("already in a call or meeting: hang up (h) first", .warning)
            return
        }
        state.overlay = .createMeeting(CreateMeetingPrompt())
    }

    /// `J`: the join box, the name others will see filled in with this device's own.
    func promptJoinMeeting() {
        guard !state.inCall else {
            show("already in a call or meeting: hang up (h) first", .warning)
            return
        }
        state.overlay = .joinMeeting(JoinMeetingPrompt(name: state.ownName ?? state.ownNumber ?? ""))
    }

    /// `o` and `r` switch; Enter makes the meeting.
    func editCreateMeeting(_ prompt: CreateMeetingPrompt, _ key: KeyPress) {
        var prompt = prompt
        switch key {
        case .escape:
            state.overlay = nil
            return
        case .character("o"): prompt.open.toggle()
        case .character("r"): prompt.record.toggle()
        case .enter:
            state.overlay = nil
            createMeeting(prompt)
            return
        default: break
        }
        state.overlay = .createMeeting(prompt)
    }

    private func createMeeting(_ prompt: CreateMeetingPrompt) {
        openMeeting(MeetingView(isHost: true, recording: prompt.record))
        knocksSetAside = []
        let (meetingEngine, name) = (meetingEngine, state.ownName)
        log(
            "making a meeting (\(prompt.open ? "open: anyone with the link comes in" : "people knock and you admit them")"
                + (prompt.record ? ", recorded from the start" : "") + ")")
        Task {
            do {
                let link = try await meetingEngine.create(open: prompt.open, record: prompt.record, name: name)
                state.meeting?.link = link.description
                state.meeting?.code = link.code
                await refreshMeeting()
            } catch {
                state.meeting?.phase = .ended(reason: "could not make the meeting: \(error)")
                show("could not make a meeting: \(error)", .error)
            }
            changed()
        }
    }

    /// Typing or pasting the link (and, after Tab, the name); Enter knocks.
    func editJoinMeeting(_ prompt: JoinMeetingPrompt, _ key: KeyPress) {
        var prompt = prompt
        switch key {
        case .escape:
            state.overlay = nil
            return
        case .tab:
            prompt.field = prompt.field == .link ? .name : .link
        case .backspace:
            if prompt.field == .link { _ = prompt.link.popLast() } else { _ = prompt.name.popLast() }
        case .enter:
            switch checkJoin(prompt) {
            case let .failure(problem):
                prompt.error = problem.text
                if problem.isAboutName { prompt.field = .name }
            case let .success(link):
                state.overlay = nil
                joinMeeting(link, name: prompt.name.trimmingCharacters(in: .whitespaces))
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
        state.overlay = .joinMeeting(prompt)
    }

    struct JoinProblem: Error {
        var text: String
        var isAboutName = false
    }

    /// The link, or why it cannot be joined from here: not a link, another server's, or no
    /// name for a device that has no number (a guest must give one).
    func checkJoin(_ prompt: JoinMeetingPrompt) -> Result<MeetingLink, JoinProblem> {
        let link: MeetingLink
        do { link = try MeetingLink(parsing: prompt.link) } catch { return .failure(JoinProblem(text: error.description)) }
        guard ServerAddress.same(link.server, session.server) else {
            return .failure(
                JoinProblem(
                    text: "this link is for the server \(link.server); this version joins meetings on "
                        + "your own server (\(session.server)) only: in a shell, duet meeting join LINK --name NAME"))
        }
        if let named = link.certificate, let pinned = try? session.store.account().serverFingerprint,
            (try? CertificateFingerprint(parsing: pinned)) != named
        {
            return .failure(JoinProblem(text: DeviceSessionError.linkCertificateMismatch(link.server.description).description))
        }
        if state.ownNumber == nil, prompt.name.trimmingCharacters(in: .whitespaces).isEmpty {
            return .failure(JoinProblem(text: "write the name the others will see (you join as a guest)", isAboutName: true))
        }
        return .success(link)
    }

    private func joinMeeting(_ link: MeetingLink, name: String) {
        openMeeting(MeetingView(link: link.description, code: link.code, isHost: false))
        let meetingEngine = meetingEngine
        // A registered device keeps its number's identity; the name is only what others see.
        let shownName = name.isEmpty ? nil : name
        log("knocking at \(link)")
        Task {
            do {
                try await meetingEngine.join(link, name: shownName)
                await refreshMeeting()
            } catch {
                state.meeting?.phase = .ended(reason: "could not knock: \(error)")
                show("could not join \(link.code): \(error)", .error)
            }
            changed()
        }
    }

    /// The pane shows the meeting at once, before the server has answered.
    private func openMeeting(_ view: MeetingView) {
        state.meeting = view
        state.pane = .meeting
        meetingConnectedAt = nil
    }

    /// `R`: recording on or off, for everyone (any participant may).
    func toggleRecording() {
        guard let meeting = state.meeting, meeting.phase.isActive else {
            show("R records a meeting you are in: make one (n) or join one (J) first", .warning)
            return
        }
        guard meeting.isInside else {
            show("you are not in the meeting yet: the host has to let you in", .warning)
            return
        }
        let (meetingEngine, on) = (meetingEngine, !meeting.recording)
        log(on ? "asking the server to record the meeting" : "asking the server to stop recording")
        Task {
            do {
                try await meetingEngine.record(on)
                await refreshMeeting()
            } catch {
                show("could not \(on ? "start" : "stop") recording: \(error)", .error)
            }
            changed()
        }
    }

    /// `h` in a meeting: leaves in the background (as host, the meeting ends for everyone).
    func leaveMeeting() {
        let meetingEngine = meetingEngine
        log(state.meeting?.isHost == true ? "leaving the meeting, which ends it for everyone" : "leaving the meeting")
        Task { await meetingEngine.leave() }
    }

    // MARK: - Knocks

    /// The knock box for the first knocker not put aside (or, from `a`, the first of all).
    func showKnock(setAsideToo: Bool = false) {
        guard let meeting = state.meeting, meeting.isHost, meeting.phase.isActive, let code = meeting.code else { return }
        let candidates = setAsideToo ? meeting.knocking : meeting.knocking.filter { !knocksSetAside.contains($0.id) }
        guard let first = candidates.first else { return }
        if setAsideToo { knocksSetAside.remove(first.id) }
        state.overlay = .knock(
            KnockPrompt(
                code: code, knocker: first,
                othersWaiting: meeting.knocking.filter { $0.id != first.id }.map(\.shortName)))
    }

    /// `a` admits, `d` denies, Esc leaves them waiting (the pane still lists them).
    func answerKnock(_ prompt: KnockPrompt, _ key: KeyPress) {
        let admit: Bool
        switch key {
        case .character("a"), .enter: admit = true
        case .character("d"): admit = false
        case .escape:
            state.overlay = nil
            knocksSetAside.insert(prompt.knocker.id)
            log("\(prompt.knocker.shortName) keeps waiting; a in the meeting pane answers")
            return
        default: return
        }
        state.overlay = nil
        let (meetingEngine, knocker) = (meetingEngine, prompt.knocker)
        log(admit ? "letting \(knocker.shortName) in" : "turning \(knocker.shortName) away", admit ? .good : .info)
        Task {
            do {
                try await meetingEngine.admit(knocker.id, admit)
            } catch {
                show("could not answer \(knocker.shortName): \(error)", .error)
            }
            await refreshMeeting()
            changed()
        }
    }

    /// A box for the next knocker when none is up; the box goes when its knocker is gone.
    private func updateKnockBox() {
        guard let meeting = state.meeting else { return }
        if case var .knock(prompt)? = state.overlay {
            if meeting.phase.isActive, meeting.knocking.contains(where: { $0.id == prompt.knocker.id }) {
                prompt.othersWaiting = meeting.knocking.filter { $0.id != prompt.knocker.id }.map(\.shortName)
                state.overlay = .knock(prompt)
            } else {
                state.overlay = nil
            }
        }
        if state.overlay == nil { showKnock() }
    }

    // MARK: - Following the engine

    /// Every quarter second in a meeting: the timer and the rows.
    func tickMeeting() async {
        guard state.meeting?.phase.isActive == true else { return }
        if let meetingConnectedAt, state.meeting?.phase == .connected {
            state.meeting?.elapsedSeconds = Int((ContinuousClock.now - meetingConnectedAt).components.seconds)
        }
        await refreshMeeting()
    }

    /// Rebuilds the pane from the engine's snapshot, names looked up in the contacts.
    func refreshMeeting() async {
        guard var view = state.meeting, view.phase.isActive, let snapshot = await meetingEngine.snapshot(),
            view.code == nil || view.code == snapshot.code
        else { return }
        view.code = snapshot.code
        view.link = snapshot.link.description
        view.phase = snapshot.mediaConnected ? .connected : snapshot.inside ? .joining : .waiting
        if let meeting = snapshot.meeting {
            view.isHost = snapshot.isHost
            view.recording = meeting.recording
            view.participants = meeting.participants.filter { $0.id != snapshot.you }.map { person in
                let hearing = snapshot.hearing[person.id]
                return MeetingParticipantRow(
                    id: person.id, name: person.guest ? person.name : contactName(person.id) ?? person.name,
                    guest: person.guest, isHost: person.id == meeting.host,
                    heard: hearing?.heard ?? false, level: hearing?.level)
            }
            view.knocking = meeting.knocking.map { person in
                MeetingKnocker(
                    id: person.id, name: person.name, guest: person.guest,
                    contactName: person.guest ? nil : contactName(person.id))
            }
        }
        state.meeting = view
        updateKnockBox()
    }

    /// News from the meeting engine: the log gets every event but the hearing reports.
    func apply(_ event: MeetingEngineEvent) async {
        switch event {
        case let .created(link):
            state.meeting?.link = link.description
            state.meeting?.code = link.code
            log("meeting \(link.code) made: share \(link); people knock and you admit them", .good)
        case let .waiting(code):
            state.meeting?.phase = .waiting
            log("knocked at \(code); waiting for the host to let you in")
        case let .admitted(code):
            log("the host let you in to \(code)", .good)
        case let .knocking(people):
            if !people.isEmpty {
                log(
                    "knocking: "
                        + people.map { person in
                            person.guest ? "\(person.name) (guest)" : contactName(person.id).map { "\($0) (\(person.id))" } ?? person.name
                        }.joined(separator: ", "))
            }
        case let .joined(person):
            log("\(participantName(person)) joined the meeting")
        case let .left(person):
            log("\(participantName(person)) left the meeting")
        case let .recording(on):
            state.meeting?.recording = on
            log(on ? "REC: the server is recording this meeting (everyone sees REC)" : "recording stopped", on ? .warning : .info)
        case .mediaConnected:
            meetingConnectedAt = ContinuousClock.now
            state.meeting?.phase = .connected
            state.meeting?.elapsedSeconds = 0
            log(event.description, .good)
        case .hearing:
            break
        case let .leg(text):
            log("meeting: \(text)")
        case let .notice(notice):
            log("meeting: \(notice.text)", Severity(notice.severity))
        case .keysWiped:
            state.meeting?.keysWiped = true
            log("meeting keys wiped (the DTLS-SRTP leg's keys)", .good)
        case let .ended(ending):
            meetingConnectedAt = nil
            state.meeting?.phase = .ended(reason: ending.description)
            state.meeting?.recording = false
            state.meeting?.knocking = []
            if case .knock? = state.overlay { state.overlay = nil }
            show("meeting ended: \(ending)", ending == .left ? .info : .warning)
        }
        await refreshMeeting()
        changed()
    }

    /// "Bob (+15550002)", "Frank (guest)", or the name they gave.
    private func participantName(_ person: Signaling.MeetingParticipant) -> String {
        if person.guest { return "\(person.name) (guest)" }
        return contactName(person.id).map { "\($0) (\(person.id))" } ?? person.name
    }
}
