import DuetClient
import DuetCrypto
import DuetWire
import Foundation

/// Contacts, safety numbers and keys: the store answers at once, the server in a task.
extension TUIController {
    /// Reloads contacts from the store with the presence the session last heard.
    func refreshContacts() async {
        lastRefresh = ContinuousClock.now
        guard let contacts = try? session.store.contacts() else { return }
        let presence = await session.presence
        let selectedNumber = state.selectedContact?.number
        let selectedGroup = state.selectedGroup?.id
        state.contacts = contacts.map { contact in
            ContactRow(
                number: contact.number, name: contact.name, trust: contact.trust,
                online: presence[contact.number], note: notes[contact.number])
        }
        if let selectedNumber, let index = state.contacts.firstIndex(where: { $0.number == selectedNumber }) {
            state.selected = index
        } else if let selectedGroup {
            select(group: selectedGroup)
        } else {
            state.selected = min(state.selected, max(state.contacts.count - 1, 0))
        }
        if let shown = state.safetyNumber, let row = state.contacts.first(where: { $0.number == shown.contact.number }) {
            state.safetyNumber?.contact = row
        }
        refreshGroups()
    }

    /// Asks the server for this device's groups in the background (they live on the server).
    func refreshGroups() {
        Task { if await loadGroups() { changed() } }
    }

    /// Reads this device's groups from the server; true when the list changed.
    @discardableResult
    func loadGroups() async -> Bool {
        guard let groups = try? await session.connection.groups() else { return false }
        let names = Dictionary(state.contacts.map { ($0.number, $0.displayName) }) { first, _ in first }
        let rows = groups.map { group in
            GroupRow(
                id: group.id, name: group.name, owner: group.owner,
                members: group.members.map { $0 == state.ownNumber ? "you (\($0))" : names[$0] ?? $0 })
        }
        guard rows != state.groups else { return false }
        let selectedGroup = state.selectedGroup?.id
        state.groups = rows
        if let selectedGroup { select(group: selectedGroup) }
        return true
    }

    /// Keeps the highlight on group `id` as the lists above it change (or on the last row if it went).
    private func select(group id: String) {
        if let index = state.groups.firstIndex(where: { $0.id == id }) {
            state.selected = state.contacts.count + index
        } else {
            state.selected = min(state.selected, max(state.contacts.count + state.groups.count - 1, 0))
        }
    }

    func showKeys() {
        let store = session.store
        guard let identity = try? store.identityPublicKey(), let spk = try? store.currentSignedPrekey() else {
            show("could not read this device's keys", .error)
            return
        }
        state.keys = KeysView(
            fingerprint: identity.fingerprint, oneTimePrekeys: (try? store.oneTimePrekeyCount()) ?? 0,
            signedPrekeyID: spk.id, signedPrekeyAge: Self.age(since: spk.createdAt))
        state.pane = .keys
    }

    static func age(since date: Date, now: Date = Date()) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        func unit(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        if seconds < 3600 { return unit(seconds / 60, "minute") }
        if seconds < 86_400 { return unit(seconds / 3600, "hour") }
        return unit(seconds / 86_400, "day")
    }

    func showSafetyNumber() {
        guard let contact = state.selectedContact else { return }
        showSafetyNumber(of: contact)
    }

    /// Looks the contact's key up again (so a change is caught) and shows the safety number.
    func showSafetyNumber(of contact: ContactRow) {
        state.message = StatusMessage("fetching \(contact.displayName)'s key…")
        Task {
            do {
                let (safety, _) = try await session.safetyNumber(with: contact.number)
                await refreshContacts()
                let row = state.contacts.first { $0.number == contact.number } ?? contact
                state.safetyNumber = SafetyNumberView(contact: row, groups: safety.groups)
                state.pane = .safetyNumber
                state.message = nil
            } catch {
                show("could not show the safety number: \(error)", .error)
            }
            changed()
        }
    }

    func verifyShownContact() {
        guard let shown = state.safetyNumber else { return }
        do {
            guard let key = try session.store.contact(number: shown.contact.number)?.identityKey,
                try session.store.markVerified(number: shown.contact.number, key: key)
            else {
                show("\(shown.contact.displayName) is not in your contacts any more", .error)
                return
            }
            show("\(shown.contact.displayName) verified ✓", .good)
        } catch {
            show("could not verify: \(error)", .error)
        }
        Task {
            await refreshContacts()
            changed()
        }
    }

    func unverifyShownContact() {
        guard let shown = state.safetyNumber else { return }
        do {
            try session.store.markUnverified(number: shown.contact.number)
            show("\(shown.contact.displayName) marked unverified", .warning)
        } catch {
            show("could not unverify: \(error)", .error)
        }
        Task {
            await refreshContacts()
            changed()
        }
    }

    /// Typing in the add-contact box; Enter moves from number to name, then adds.
    func editAddContact(_ prompt: AddContactPrompt, _ key: KeyPress) {
        var prompt = prompt
        switch key {
        case .escape:
            state.overlay = nil
            return
        case .backspace:
            if prompt.field == .number { _ = prompt.number.popLast() } else { _ = prompt.name.popLast() }
        case .tab:
            prompt.field = prompt.field == .number ? .name : .number
        case .enter:
            if prompt.field == .number {
                guard PhoneNumber.isValid(prompt.number) else {
                    prompt.error = "write + and 1–15 digits, e.g. +15550100"
                    break
                }
                prompt.error = nil
                prompt.field = .name
            } else {
                addContact(prompt)
                return
            }
        case let .character(character):
            if prompt.field == .number {
                if character == "+" || character.isNumber, prompt.number.count < 16 { prompt.number.append(character) }
            } else if !character.isNewline, prompt.name.count < 40 {
                prompt.name.append(character)
            }
        default:
            break
        }
        state.overlay = .addContact(prompt)
    }

    private func addContact(_ prompt: AddContactPrompt) {
        let name = prompt.name.trimmingCharacters(in: .whitespaces)
        Task {
            do {
                let contact = try await session.addContact(number: prompt.number, name: name.isEmpty ? nil : name)
                state.overlay = nil
                await refreshContacts()
                if let index = state.contacts.firstIndex(where: { $0.number == contact.number }) { state.selected = index }
                state.pane = .contact
                show("added \(contact.displayName); compare safety numbers (s) to verify", .good)
            } catch {
                var failed = prompt
                failed.error = "\(error)"
                state.overlay = .addContact(failed)
            }
            changed()
        }
    }

    func removeContact(_ contact: ContactRow) {
        state.overlay = nil
        do {
            _ = try session.store.removeContact(number: contact.number)
            show("removed \(contact.displayName)", .info)
        } catch {
            show("could not remove \(contact.displayName): \(error)", .error)
        }
        Task {
            await refreshContacts()
            changed()
        }
    }
}
