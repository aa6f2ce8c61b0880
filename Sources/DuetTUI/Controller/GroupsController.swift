import DuetClient
import Foundation

/// Groups on the server: making one from the contacts pane (`g`), and adding (`+`) or
/// removing (`-`) a member of the group whose call is in progress. The server tells every
/// member of the change, and each device in the call rekeys by itself.
struct GroupsController: Sendable {
    let session: DeviceSession

    /// Typing in the new-group box; Enter moves from name to members, then creates.
    func editCreate(_ prompt: CreateGroupPrompt, _ key: KeyPress, _ tui: isolated TUIController) {
        var prompt = prompt
        var keys = PromptKeys(
            texts: [prompt.name, prompt.members], focus: prompt.field == .name ? 0 : 1, rules: [.name, .numbers])
        let outcome = keys.apply(key)
        (prompt.name, prompt.members) = (keys.texts[0], keys.texts[1])
        prompt.field = keys.focus == 0 ? .name : .members
        switch outcome {
        case .close:
            tui.state.overlay = nil
            return
        case .submit where prompt.field == .name:
            guard !prompt.name.trimmingCharacters(in: .whitespaces).isEmpty else {
                prompt.error = "give the group a name"
                break
            }
            prompt.error = nil
            prompt.field = .members
        case .submit:
            if let problem = Self.membersProblem(prompt.memberNumbers) {
                prompt.error = problem
            } else {
                create(prompt, tui)
                return
            }
        case .edited:
            break
        }
        tui.state.overlay = .createGroup(prompt)
    }

    /// Why the typed members cannot make a group, or nil when they can.
    static func membersProblem(_ numbers: [String]) -> String? {
        if numbers.isEmpty { return "write at least one member's number, e.g. +15550002 +15550003" }
        if let bad = numbers.first(where: { !ContactNumber.isValid($0) }) {
            return "\(bad) is not a number: write + and 1–15 digits"
        }
        return nil
    }

    private func create(_ prompt: CreateGroupPrompt, _ tui: isolated TUIController) {
        let name = prompt.name.trimmingCharacters(in: .whitespaces)
        Task {
            do {
                let group = try await session.connection.createGroup(name: name, members: prompt.memberNumbers)
                tui.state.overlay = nil
                await tui.contacts.loadGroups(tui)
                if let index = tui.state.groups.firstIndex(where: { $0.id == group.id }) {
                    tui.state.selected = tui.state.contacts.count + index
                    tui.state.pane = .contact
                }
                tui.show("made group \(group.name) with \(tui.state.names(group.members)); press c to call it", .good)
            } catch {
                var failed = prompt
                failed.error = "\(error)"
                tui.state.overlay = .createGroup(failed)
            }
            tui.changed()
        }
    }

    /// `+` / `-`: the member box for the group of the call in progress.
    func promptMember(_ action: GroupMemberPrompt.Action, _ tui: isolated TUIController) {
        guard let call = tui.state.groupCall, call.phase.isActive, !call.groupID.isEmpty else {
            tui.show("+ and - change the members of a group call in progress: call a group first", .warning)
            return
        }
        var choices: [GroupMemberPrompt.Choice] = []
        if action == .remove {
            choices =
                call.participants.map { .init(number: $0.number, name: $0.name) }
                + call.invited.map { .init(number: $0.number, name: $0.name) }
        }
        tui.state.overlay = .groupMember(
            GroupMemberPrompt(
                action: action, groupID: call.groupID, groupName: call.groupName,
                number: choices.first?.number ?? "", choices: choices))
    }

    /// Typing (or, for removal, picking with ↑/↓) a number; Enter asks the server.
    func editMember(_ prompt: GroupMemberPrompt, _ key: KeyPress, _ tui: isolated TUIController) {
        var prompt = prompt
        if key == .up || key == .down {
            if !prompt.choices.isEmpty {
                let current = prompt.choices.firstIndex { $0.number == prompt.number }
                let step = key == .up ? -1 : 1
                let next = current.map { ($0 + step + prompt.choices.count) % prompt.choices.count } ?? 0
                prompt.number = prompt.choices[next].number
            }
            tui.state.overlay = .groupMember(prompt)
            return
        }
        var keys = PromptKeys(texts: [prompt.number], rules: [.number])
        let outcome = keys.apply(key)
        prompt.number = keys.texts[0]
        switch outcome {
        case .close:
            tui.state.overlay = nil
            return
        case .submit:
            guard ContactNumber.isValid(prompt.number) else {
                prompt.error = "write + and 1–15 digits, e.g. +15550100"
                break
            }
            changeMember(prompt, tui)
            return
        case .edited:
            break
        }
        tui.state.overlay = .groupMember(prompt)
    }

    private func changeMember(_ prompt: GroupMemberPrompt, _ tui: isolated TUIController) {
        let (connection, number) = (session.connection, prompt.number)
        Task {
            do {
                switch prompt.action {
                case .add: _ = try await connection.addGroupMember(group: prompt.groupID, number: number)
                case .remove: _ = try await connection.removeGroupMember(group: prompt.groupID, number: number)
                }
                tui.state.overlay = nil
                let who = tui.state.displayName(number)
                let verb = prompt.action == .add ? "added \(who) to" : "removed \(who) from"
                tui.show("\(verb) \(prompt.groupName); everyone in the call makes a new key", .good)
                await tui.contacts.loadGroups(tui)
            } catch {
                var failed = prompt
                failed.error = "\(error)"
                tui.state.overlay = .groupMember(failed)
            }
            tui.changed()
        }
    }
}
