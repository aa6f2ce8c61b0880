/// A rectangle of cells, in screen coordinates.
struct Rect: Equatable, Sendable {
    var row: Int
    var column: Int
    var width: Int
    var height: Int

    /// The same rectangle with `left` and `right` columns taken off its sides.
    func inset(left: Int = 0, right: Int = 0) -> Rect {
        Rect(row: row, column: column + left, width: max(0, width - left - right), height: height)
    }
}

/// Where each part of the screen goes, from the terminal's size alone. A pure function of
/// its inputs (as lazygit computes its window arrangement) so the arrangement is tested
/// without drawing anything:
///
///     row 0            status bar
///     rows 1…h-3       contact list │ right pane (detail on top, event log below if shown)
///     row h-2          message line
///     row h-1          key hints
struct Layout: Equatable, Sendable {
    static let minimumWidth = 80
    static let minimumHeight = 24
    /// The contact list's share of the width, and its narrowest width.
    static let listShare = 0.35
    static let minimumListWidth = 28
    /// The event log's share of the right pane's height, and its fewest rows.
    static let logShare = 0.4
    static let minimumLogRows = 5

    let width: Int
    let height: Int
    var statusRow: Int { 0 }
    var messageRow: Int { height - 2 }
    var hintsRow: Int { height - 1 }
    /// Every row between the status bar and the message line, full width: overlays centre here.
    let body: Rect
    /// The contact list (left pane).
    let list: Rect
    /// The column of the "│" between the panes.
    let separatorColumn: Int
    /// The right pane's upper part: contact, call, keys or safety number.
    let detail: Rect
    /// The right pane's lower part when the event log is shown; its first row is the header.
    let log: Rect?

    /// True when the terminal is big enough for the full screen.
    static func fits(width: Int, height: Int) -> Bool {
        width >= minimumWidth && height >= minimumHeight
    }

    /// The arrangement for a terminal of `width` × `height`; nil when it is smaller than 80×24.
    init?(width: Int, height: Int, showLog: Bool) {
        guard Self.fits(width: width, height: height) else { return nil }
        self.width = width
        self.height = height
        let bodyRows = height - 3
        body = Rect(row: 1, column: 0, width: width, height: bodyRows)
        let listWidth = max(Self.minimumListWidth, Int((Double(width) * Self.listShare).rounded()))
        list = Rect(row: 1, column: 0, width: listWidth, height: bodyRows)
        separatorColumn = listWidth
        let right = Rect(row: 1, column: listWidth + 1, width: width - listWidth - 1, height: bodyRows)
        if showLog {
            let logRows = max(Self.minimumLogRows, Int((Double(bodyRows) * Self.logShare).rounded()))
            detail = Rect(row: right.row, column: right.column, width: right.width, height: bodyRows - logRows)
            log = Rect(row: right.row + bodyRows - logRows, column: right.column, width: right.width, height: logRows)
        } else {
            detail = right
            log = nil
        }
    }
}
