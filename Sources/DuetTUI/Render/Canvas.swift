/// A grid of styled cells the views draw into, then read out as a `ScreenModel`. Everything
/// written is clipped to the grid and to the width it is given, so no view can push a row
/// past the terminal's width or overwrite a neighbouring pane.
struct Canvas: Sendable {
    let width: Int
    let height: Int
    private var cells: [Cell]

    init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    subscript(row: Int, column: Int) -> Cell {
        get { cells[row * width + column] }
        set { cells[row * width + column] = newValue }
    }

    /// Writes `text` from (`row`, `column`), cut with "…" to `width` columns (or the grid's edge).
    mutating func draw(_ text: StyledText, row: Int, column: Int, width limit: Int? = nil) {
        guard (0..<height).contains(row), column >= 0, column < width else { return }
        let room = min(limit ?? Int.max, width - column)
        for (offset, cell) in text.truncated(to: room).cells.enumerated() {
            self[row, column + offset] = cell
        }
    }

    /// Writes `lines` top-down inside `rect`, each cut to its width; lines past its height are dropped.
    mutating func draw(_ lines: [StyledText], in rect: Rect) {
        for (offset, line) in lines.prefix(max(0, rect.height)).enumerated() {
            draw(line, row: rect.row + offset, column: rect.column, width: rect.width)
        }
    }

    /// Sets every cell of `rect` (clipped to the grid) to `character` in `style`.
    mutating func fill(_ rect: Rect, with character: Character = " ", _ style: TextStyle = .plain) {
        let rows = max(0, rect.row)..<min(height, rect.row + rect.height)
        let columns = max(0, rect.column)..<min(width, rect.column + rect.width)
        guard !rows.isEmpty, !columns.isEmpty else { return }
        for row in rows {
            for column in columns { self[row, column] = Cell(character: character, style: style) }
        }
    }

    /// One row's cells as text.
    func line(_ row: Int) -> StyledText {
        StyledText(cells: Array(cells[(row * width)..<((row + 1) * width)]))
    }

    /// The grid as the painter and the tests read it.
    var screen: ScreenModel {
        ScreenModel(width: width, height: height, lines: (0..<height).map { line($0).screenLine })
    }
}
