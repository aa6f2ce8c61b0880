/// Turns a `TUIState` into the `ScreenModel` the painter shows. A pure function — no terminal,
/// clock or I/O — so every screen is tested as text (`Tests/DuetTUITests/GoldenTests.swift`). Each part of the screen is
/// drawn by its own view into a `Canvas`, in the places `Layout` gives.
public enum ScreenRenderer {
    /// The screen for `state` on a `width` × `height` terminal: exactly `height` lines of
    /// exactly `width` columns (one column per `Character`). Below 80×24 it is a single centred
    /// message asking for a bigger terminal. Pictures are drawn for a terminal of `colours`.
    public static func render(_ state: TUIState, width: Int, height: Int, colours: ColourDepth = .none) -> ScreenModel {
        guard let layout = Layout(width: width, height: height, showLog: state.showLog) else {
            return tooSmall(width: width, height: height)
        }
        var canvas = Canvas(width: width, height: height)
        canvas.draw(StatusBar.line(state, width: width), row: layout.statusRow, column: 0)
        ContactListView.draw(state, in: layout.list, on: &canvas)
        canvas.fill(
            Rect(row: layout.body.row, column: layout.separatorColumn, width: 1, height: layout.body.height),
            with: "│")
        canvas.draw(
            paneLines(state, width: layout.detail.width - 2, height: layout.detail.height, colours: colours),
            in: layout.detail.inset(left: 1, right: 1))
        if let log = layout.log {
            EventLogView.draw(state.log, in: log, separatorColumn: layout.separatorColumn, on: &canvas)
        }
        canvas.draw(MessageLine.line(state, width: width), row: layout.messageRow, column: 0)
        canvas.draw(KeyHints.line(state, width: width), row: layout.hintsRow, column: 0)
        if let overlay = state.overlay {
            OverlayView.draw(overlay, in: layout.body, on: &canvas)
        }
        return canvas.screen
    }

    /// The right pane's lines for `state.pane`, `width` columns wide; the call panes, the ones
    /// that can outgrow their rows, fit themselves into `height`.
    static func paneLines(_ state: TUIState, width: Int, height: Int, colours: ColourDepth = .none) -> [StyledText] {
        switch state.pane {
        case .contact: ContactDetailView.lines(state, width: width)
        case .safetyNumber: SafetyNumberPaneView.lines(state, width: width)
        case .keys: KeysPaneView.lines(state, width: width)
        case .history: HistoryPaneView.lines(state, width: width)
        case .call: CallPaneView.lines(state, width: width, height: height, colours: colours)
        case .groupCall: GroupCallPaneView.lines(state, width: width, height: height, colours: colours)
        case .meeting: MeetingPaneView.lines(state, width: width, height: height, colours: colours)
        }
    }

    /// "duet needs at least 80×24 (now W×H)", centred (and cut if even that does not fit).
    static func tooSmall(width: Int, height: Int) -> ScreenModel {
        var canvas = Canvas(width: width, height: height)
        let message = StyledText("duet needs at least \(Layout.minimumWidth)×\(Layout.minimumHeight) (now \(width)×\(height))")
        let shown = message.truncated(to: canvas.width)
        canvas.draw(
            shown, row: canvas.height / 2 - (canvas.height.isMultiple(of: 2) && canvas.height > 0 ? 1 : 0),
            column: (canvas.width - shown.count) / 2)
        return canvas.screen
    }
}
