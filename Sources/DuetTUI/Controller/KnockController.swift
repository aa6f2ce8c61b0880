import DuetClient

/// The host's knock box: one box for the first knocker not put aside, answered with `a`
/// (admit), `d` (deny) or Esc (decide later; `a` in the meeting pane brings the box back).
/// The box follows the meeting's knockers as the engine's events change them.
struct KnockController: Sendable {
    let engine: MeetingEngine

    /// The knock box for the first knocker not put aside (or, from `a`, the first of all).
    func show(setAsideToo: Bool = false, _ tui: isolated TUIController) {
        guard let meeting = tui.state.meeting, meeting.isHost, meeting.phase.isActive, let code = meeting.code else { return }
        let candidates = setAsideToo ? meeting.knocking : meeting.knocking.filter { !tui.knocksSetAside.contains($0.id) }
        guard let first = candidates.first else { return }
        if setAsideToo { tui.knocksSetAside.remove(first.id) }
        tui.state.overlay = .knock(
            KnockPrompt(
                code: code, knocker: first,
                othersWaiting: meeting.knocking.filter { $0.id != first.id }.map(\.shortName)))
    }

    /// `a` admits, `d` denies, Esc leaves them waiting (the pane still lists them).
    func answer(_ prompt: KnockPrompt, _ key: KeyPress, _ tui: isolated TUIController) {
        let admit: Bool
        switch key {
        case .character("a"), .enter: admit = true
        case .character("d"): admit = false
        case .escape:
            tui.state.overlay = nil
            tui.knocksSetAside.insert(prompt.knocker.id)
            tui.log("\(prompt.knocker.shortName) keeps waiting; a in the meeting pane answers")
            return
        default: return
        }
        tui.state.overlay = nil
        let (engine, knocker) = (engine, prompt.knocker)
        tui.log(admit ? "letting \(knocker.shortName) in" : "turning \(knocker.shortName) away", admit ? .good : .info)
        Task {
            do {
                try await engine.admit(knocker.id, admit)
            } catch {
                tui.show("could not answer \(knocker.shortName): \(error)", .error)
            }
            updateBox(tui)
            tui.changed()
        }
    }

    /// A box for the next knocker when none is up; the box goes when its knocker is gone.
    func updateBox(_ tui: isolated TUIController) {
        guard let meeting = tui.state.meeting else { return }
        if case var .knock(prompt)? = tui.state.overlay {
            if meeting.phase.isActive, meeting.knocking.contains(where: { $0.id == prompt.knocker.id }) {
                prompt.othersWaiting = meeting.knocking.filter { $0.id != prompt.knocker.id }.map(\.shortName)
                tui.state.overlay = .knock(prompt)
            } else {
                tui.state.overlay = nil
            }
        }
        if tui.state.overlay == nil { show(tui) }
    }
}
