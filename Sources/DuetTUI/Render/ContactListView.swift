import DuetClient

/// The left pane: sections of rows (contacts, then groups when there are any), each with a
/// bold header, scrolled so the highlighted row stays in view.
enum ContactListView {
    /// One titled list in the left pane.
    struct Section: Equatable, Sendable {
        var title: String
        var rows: [StyledText]
        /// The highlighted row, if it is in this section.
        var selected: Int?
        /// What to show when `rows` is empty: what to press to fill it.
        var emptyText: String
    }

    static func draw(_ state: TUIState, in rect: Rect, on canvas: inout Canvas) {
        guard !state.groups.isEmpty, rect.height >= 8 else {
            draw(contactsSection(state, width: rect.width), in: rect, on: &canvas)
            return
        }
        // Groups below the contacts: a third of the pane at most, one blank row between.
        let groupsHeight = min(state.groups.count + 1, max(2, rect.height / 3))
        let contactsRect = Rect(row: rect.row, column: rect.column, width: rect.width, height: rect.height - groupsHeight - 1)
        let groupsRect = Rect(row: rect.row + rect.height - groupsHeight, column: rect.column, width: rect.width, height: groupsHeight)
        draw(contactsSection(state, width: rect.width), in: contactsRect, on: &canvas)
        draw(groupsSection(state, width: rect.width), in: groupsRect, on: &canvas)
    }

    static func groupsSection(_ state: TUIState, width: Int) -> Section {
        let selected = selectedGroupIndex(state)
        return Section(
            title: "Groups",
            rows: state.groups.enumerated().map { index, group in
                let base: TextStyle = index == selected ? .reverse : .plain
                let count = StyledText("\(group.members.count)", index == selected ? base : .dim)
                let lead = StyledText(index == selected ? "▌# " : " # ", base)
                let name = StyledText(group.name, base).padded(to: max(0, width - lead.count - count.count - 1), base)
                return (lead + name + count).padded(to: width, base)
            },
            selected: selected,
            emptyText: "")
    }

    /// The highlighted group's index, when the highlight is below the contacts.
    static func selectedGroupIndex(_ state: TUIState) -> Int? {
        guard !state.groups.isEmpty, state.selected >= state.contacts.count else { return nil }
        return min(state.selected - state.contacts.count, state.groups.count - 1)
    }

    static func contactsSection(_ state: TUIState, width: Int) -> Section {
        let selected = clampedSelection(state)
        return Section(
            title: "Contacts",
            rows: state.contacts.enumerated().map { row($1, selected: $0 == selected, width: width) },
            selected: selected,
            emptyText: "No contacts yet — press a to add one")
    }

    /// The index the highlight is drawn at: `state.selected` kept inside the list.
    static func clampedSelection(_ state: TUIState) -> Int? {
        if selectedGroupIndex(state) != nil { return nil }
        return state.contacts.isEmpty ? nil : min(max(state.selected, 0), state.contacts.count - 1)
    }

    static func draw(_ section: Section, in rect: Rect, on canvas: inout Canvas) {
        guard rect.height > 0 else { return }
        let visible = rect.height - 1
        var header = StyledText(" " + section.title, .bold)
        if section.rows.count > visible, let selected = section.selected {
            // Where in a long list we are, since only part of it shows.
            let position = StyledText("\(selected + 1)/\(section.rows.count) ", .dim)
            header = header.padded(to: rect.width - position.count) + position
        }
        canvas.draw(header, row: rect.row, column: rect.column, width: rect.width)
        let body = Rect(row: rect.row + 1, column: rect.column, width: rect.width, height: visible)
        if section.rows.isEmpty {
            canvas.draw(StyledText(section.emptyText).wrapped(to: rect.width - 2).map { " " + $0 }, in: body)
            return
        }
        let first = scrollOffset(count: section.rows.count, selected: section.selected ?? 0, visible: visible)
        canvas.draw(Array(section.rows.dropFirst(first)), in: body)
    }

    /// The first row shown when `count` rows share `visible` lines: the selected row sits in
    /// the middle once the list scrolls, so there is context on both sides of it.
    static func scrollOffset(count: Int, selected: Int, visible: Int) -> Int {
        guard visible > 0, count > visible else { return 0 }
        return min(max(selected - visible / 2, 0), count - visible)
    }

    /// "▌● Alice            ✓": selection marker, presence, name, trust badge. The badge is
    /// text, so a changed key reads "! KEY CHANGED" without colour and keeps its .danger style
    /// even on the highlighted row.
    static func row(_ contact: ContactRow, selected: Bool, width: Int) -> StyledText {
        let base: TextStyle = selected ? .reverse : .plain
        let presence: StyledText =
            switch contact.online {
            case true?: StyledText("●", selected ? base : .good)
            case false?: StyledText("○", selected ? base : .dim)
            case nil: StyledText(" ", base)
            }
        let badge: StyledText =
            switch contact.trust {
            case .verified: StyledText("✓", .good)
            case .unverified: StyledText()
            case .keyChanged: .phrase("! KEY CHANGED", .danger)
            }
        let lead = StyledText(selected ? "▌" : " ", base) + presence + StyledText(" ", base)
        let badgeWidth = badge.isEmpty ? 0 : badge.count + 1
        let nameWidth = max(0, width - lead.count - badgeWidth - 1)
        let name = StyledText(contact.name ?? contact.number, base).padded(to: nameWidth, base)
        let gap = badge.isEmpty ? StyledText() : StyledText(" ", base)
        return (lead + name + gap + badge).padded(to: width, base)
    }
}
