import DuetClient
import Foundation

/// Contacts, safety numbers and this device's keys: the store answers at once, the server
/// in a task. Works on the controller's state in its isolation.
struct ContactsController: Sendable {
    let session: DeviceSession
    /// Notes shown for some contacts (the embedded bots say what they do).
    let notes: [String: String]

    /// Reloads contacts from the store with the presence the session last heard.
    func refresh(_ tui: isolated TUIController) async {
        tui.lastRefresh = ContinuousClock.now
        guard let contacts = try? session.store.contacts() else { return }
        let presence = await session.presence
        let selectedNumber = tui.state.selectedContact?.number
        let selectedGroup = tui.state.selectedGroup?.id
        tui.state.contacts = contacts.map { contact in
            ContactRow(
                number: contact.number, name: contact.name, trust: contact.trust,
                online: presence[contact.number], note: notes[contact.number])
        }
        if let selectedNumber, let index = tui.state.contacts.firstIndex(where: { $0.number == selectedNumber }) {
            tui.state.selected = index
        } else if let selectedGroup {
            select(group: selectedGroup, tui)
        } else {
            tui.state.selected = min(tui.state.selected, max(tui.state.contacts.count - 1, 0))
        }
        if let shown = tui.state.safetyNumber, let row = tui.state.contacts.first(where: { $0.number == shown.contact.number }) {
            tui.state.safetyNumber?.contact = row
        }
        refreshGroups(tui)
    }

    /// Asks the server for this device's groups in the background (they live on the server).
    func refreshGroups(_ tui: isolated TUIController) {
        Task { if await loadGroups(tui) { tui.changed() } }
    }

    /// Reads this device's groups from the server; true when the list changed.
    @discardableResult
    func loadGroups(_ tui: isolated TUIController) async -> Bool {
        guard let groups = try? await session.connection.groups() else { return false }
        let names = Dictionary(tui.state.contacts.map { ($0.number, $0.displayName) }) { first, _ in first }
        let rows = groups.map { group in
            GroupRow(
                id: group.id, name: group.name, owner: group.owner,
                members: group.members.map { $0 == tui.state.ownNumber ? "you (\($0))" : names[$0] ?? $0 })
        }
        guard rows != tui.state.groups else { return false }
        let selectedGroup = tui.state.selectedGroup?.id
        tui.state.groups = rows
        if let selectedGroup { select(group: selectedGroup, tui) }
        return true
    }

    /// Keeps the highlight on group `id` as the lists above it change (or on the last row if it went).
    private func select(group id: String, _ tui: isolated TUIController) {
        if let index = tui.state.groups.firstIndex(where: { $0.id == id }) {
            tui.state.selected = tui.state.contacts.count + index
        } else {
            tui.state.selected = min(tui.state.selected, max(tui.state.contacts.count + tui.state.groups.count - 1, 0))
        }
    }

    func showKeys(_ tui: isolated TUIController) {
        guard let keys = try? session.ownKeys() else {
            tui.show("could not read this device's keys", .error)
            return
        }
        tui.state.keys = KeysView(
            fingerprint: keys.fingerprint.full, oneTimePrekeys: (try? session.store.oneTimePrekeyCount()) ?? 0,
            signedPrekeyID: keys.signedPrekeyID, signedPrekeyAge: ContactsController.age(since: keys.signedPrekeyCreatedAt))
        tui.state.pane = .keys
    }

    /// The call history pane, as the device store has it now.
    func showHistory(_ tui: isolated TUIController) {
        do { tui.state.history = HistoryLines.lines(try session.store.history(limit: 100)) } catch {
            tui.show("could not read the call history: \(error)", .error)
            return
        }
        tui.state.pane = .history
    }

    static func age(since date: Date, now: Date = Date()) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        func unit(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        if seconds < 3600 { return unit(seconds / 60, "minute") }
        if seconds < 86_400 { return unit(seconds / 3600, "hour") }
        return unit(seconds / 86_400, "day")
    }

    func showSafetyNumber(_ tui: isolated TUIController) {
        guard let contact = tui.state.selectedContact else { return }
        showSafetyNumber(of: contact, tui)
    }

    /// Looks the contact's key up again (so a change is caught) and shows the safety number.
    func showSafetyNumber(of contact: ContactRow, _ tui: isolated TUIController) {
        tui.state.message = StatusMessage("fetching \(contact.displayName)'s key…")
        Task {
            do {
                let groups = try await session.safetyNumberGroups(with: contact.number)
                await refresh(tui)
                let row = tui.state.contacts.first { $0.number == contact.number } ?? contact
                tui.state.safetyNumber = SafetyNumberView(contact: row, groups: groups)
                tui.state.pane = .safetyNumber
                tui.state.message = nil
            } catch {
                tui.show("could not show the safety number: \(error)", .error)
            }
            tui.changed()
        }
    }

    func verifyShown(_ tui: isolated TUIController) {
        guard let shown = tui.state.safetyNumber else { return }
        do {
            guard try session.verifyContact(number: shown.contact.number) else {
                tui.show("\(shown.contact.displayName) is not in your contacts any more", .error)
                return
            }
            tui.show("\(shown.contact.displayName) verified ✓", .good)
        } catch {
            tui.show("could not verify: \(error)", .error)
        }
        Task {
            await refresh(tui)
            tui.changed()
        }
    }

    func unverifyShown(_ tui: isolated TUIController) {
        guard let shown = tui.state.safetyNumber else { return }
        do {
            try session.store.markUnverified(number: shown.contact.number)
            tui.show("\(shown.contact.displayName) marked unverified", .warning)
        } catch {
            tui.show("could not unverify: \(error)", .error)
        }
        Task {
            await refresh(tui)
            tui.changed()
        }
    }

    /// Typing in the add-contact box; Enter moves from number to name, then adds.
    func editAdd(_ prompt: AddContactPrompt, _ key: KeyPress, _ tui: isolated TUIController) {
        var prompt = prompt
        var keys = PromptKeys(
            texts: [prompt.number, prompt.name], focus: prompt.field == .number ? 0 : 1, rules: [.number, .name])
        let outcome = keys.apply(key)
        (prompt.number, prompt.name) = (keys.texts[0], keys.texts[1])
        prompt.field = keys.focus == 0 ? .number : .name
        switch outcome {
        case .close:
            tui.state.overlay = nil
            return
        case .submit where prompt.field == .number:
            guard ContactNumber.isValid(prompt.number) else {
                prompt.error = "write + and 1–15 digits, e.g. +15550100"
                break
            }
            prompt.error = nil
            prompt.field = .name
        case .submit:
            add(prompt, tui)
            return
        case .edited:
            break
        }
        tui.state.overlay = .addContact(prompt)
    }

    private func add(_ prompt: AddContactPrompt, _ tui: isolated TUIController) {
        let name = prompt.name.trimmingCharacters(in: .whitespaces)
        Task {
            do {
                let contact = try await session.addContact(number: prompt.number, name: name.isEmpty ? nil : name)
                tui.state.overlay = nil
                await refresh(tui)
                if let index = tui.state.contacts.firstIndex(where: { $0.number == contact.number }) { tui.state.selected = index }
                tui.state.pane = .contact
                tui.show("added \(contact.displayName); compare safety numbers (s) to verify", .good)
            } catch {
                var failed = prompt
                failed.error = "\(error)"
                tui.state.overlay = .addContact(failed)
            }
            tui.changed()
        }
    }

    func remove(_ contact: ContactRow, _ tui: isolated TUIController) {
        tui.state.overlay = nil
        do {
            _ = try session.store.removeContact(number: contact.number)
            tui.show("removed \(contact.displayName)", .info)
        } catch {
            tui.show("could not remove \(contact.displayName): \(error)", .error)
        }
        Task {
            await refresh(tui)
            tui.changed()
        }
    }
}
