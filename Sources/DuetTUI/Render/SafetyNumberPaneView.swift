import DuetClient

/// The right pane for comparing a safety number: sixty digits in groups both people read,
/// what to do with them, and the contact's trust state now.
enum SafetyNumberPaneView {
    static let groupsPerRow = 4

    static func lines(_ state: TUIState, width: Int) -> [StyledText] {
        guard let view = state.safetyNumber else {
            return .wrapping(
                [
                    StyledText("Safety number", .bold), "",
                    "No safety number to show: select a contact and press s."
                ], to: width)
        }
        let contact = view.contact
        var lines: [StyledText] = .wrapping([StyledText("Safety number with \(contact.displayName)", .bold)], to: width)
        lines.append("")
        if view.groups.isEmpty {
            lines.append("Not available yet: their key has not been fetched.")
        }
        for start in stride(from: 0, to: view.groups.count, by: groupsPerRow) {
            let row = view.groups[start..<min(start + groupsPerRow, view.groups.count)].joined(separator: "  ")
            lines.append("  " + StyledText(row, .bold))
        }
        let name = contact.name ?? contact.number
        lines.append("")
        lines += StyledText("Compare these 60 digits with \(name)'s screen, in person or on a call. If they match, press v.")
            .wrapped(to: width)
        lines.append("")
        lines += TextFormat.labelled("Trust", trustLine(contact.trust), labelWidth: ContactDetailView.labelWidth, width: width)
        return lines
    }

    static func trustLine(_ trust: ContactTrust) -> StyledText {
        switch trust {
        case .verified: TextFormat.trust(trust) + " — press u to undo"
        case .unverified: TextFormat.trust(trust)
        case .keyChanged: TextFormat.trust(trust) + " — these digits are for their new key"
        }
    }
}
