/// A bordered box (┌─┐│└┘) centred over the body rows, holding an overlay's lines. The rows it
/// covers, and one above and below, are cleared across the whole width: cut-off fragments of
/// the panes beside the box would read as part of it.
enum OverlayBox {
    /// Draws `lines` (already at most `innerWidth` wide) in a box centred in `area`; lines that
    /// do not fit the area's height are dropped from the bottom.
    static func draw(_ lines: [StyledText], innerWidth: Int, in area: Rect, on canvas: inout Canvas) {
        let boxWidth = min(innerWidth + 4, area.width)
        let inner = boxWidth - 4
        let shown = Array(lines.prefix(max(0, area.height - 4)))
        let boxHeight = shown.count + 4
        let top = area.row + (area.height - boxHeight) / 2
        let left = area.column + (area.width - boxWidth) / 2
        let band = Rect(row: top - 1, column: area.column, width: area.width, height: boxHeight + 2)
        canvas.fill(clip(band, to: area))
        let horizontal = String(repeating: "─", count: max(0, boxWidth - 2))
        canvas.draw(StyledText("┌" + horizontal + "┐"), row: top, column: left)
        canvas.draw(StyledText("└" + horizontal + "┘"), row: top + boxHeight - 1, column: left)
        let blank = StyledText.spaces(inner)
        for row in 0..<(boxHeight - 2) {
            let content = row == 0 || row == boxHeight - 3 ? blank : shown[row - 1].padded(to: inner)
            canvas.draw("│ " + content + " │", row: top + 1 + row, column: left)
        }
    }

    /// The width an overlay's lines may take: `preferred`, or less on a narrow area.
    static func innerWidth(preferred: Int, in area: Rect) -> Int {
        max(10, min(preferred, area.width - 6))
    }

    private static func clip(_ rect: Rect, to area: Rect) -> Rect {
        let row = max(rect.row, area.row), column = max(rect.column, area.column)
        let bottom = min(rect.row + rect.height, area.row + area.height)
        let right = min(rect.column + rect.width, area.column + area.width)
        return Rect(row: row, column: column, width: max(0, right - column), height: max(0, bottom - row))
    }
}

/// Draws whichever overlay the state holds.
enum OverlayView {
    static func draw(_ overlay: TUIState.Overlay, in area: Rect, on canvas: inout Canvas) {
        let preferred: Int =
            switch overlay {
            case .help: HelpOverlay.width
            case .incoming, .addContact, .confirmRemove: 46
            case .keyChangedWarning, .incomingGroupCall, .createGroup, .groupMember, .createMeeting, .joinMeeting, .knock: 56
            }
        let width = OverlayBox.innerWidth(preferred: preferred, in: area)
        let lines: [StyledText] =
            switch overlay {
            case .help: HelpOverlay.lines(width: width)
            case let .incoming(call): IncomingCallOverlay.lines(call, width: width)
            case let .addContact(prompt): AddContactOverlay.lines(prompt, width: width)
            case let .confirmRemove(contact): ConfirmRemoveOverlay.lines(contact, width: width)
            case let .keyChangedWarning(contact): KeyChangedOverlay.lines(contact, width: width)
            case let .incomingGroupCall(call): IncomingGroupCallOverlay.lines(call, width: width)
            case let .createGroup(prompt): CreateGroupOverlay.lines(prompt, width: width)
            case let .groupMember(prompt): GroupMemberOverlay.lines(prompt, width: width)
            case let .createMeeting(prompt): CreateMeetingOverlay.lines(prompt, width: width)
            case let .joinMeeting(prompt): JoinMeetingOverlay.lines(prompt, width: width)
            case let .knock(prompt): KnockOverlay.lines(prompt, width: width)
            }
        OverlayBox.draw(lines, innerWidth: width, in: area, on: &canvas)
    }
}
