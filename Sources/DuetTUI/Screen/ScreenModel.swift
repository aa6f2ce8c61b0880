/// What the terminal should show, as plain data: drawing functions build it from a state
/// snapshot and tests read it as text; only the painter hands it to ncurses (`Terminal.swift`).
public struct ScreenModel: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var lines: [ScreenLine]

    public init(width: Int, height: Int, lines: [ScreenLine] = []) {
        self.width = width
        self.height = height
        self.lines = lines
    }

    /// The screen as text, one string per row, for tests and for `--dump`.
    public var text: [String] { lines.map(\.text) }
}

/// One row: runs of text, each with its own look.
public struct ScreenLine: Equatable, Sendable {
    public var runs: [StyledRun]

    public init(_ runs: [StyledRun]) { self.runs = runs }
    public init(_ text: String, _ style: TextStyle = .plain) { self.runs = [StyledRun(text, style)] }

    public var text: String { runs.map(\.text).joined() }
}

/// Text with one style.
public struct StyledRun: Equatable, Sendable {
    public var text: String
    public var style: TextStyle

    public init(_ text: String, _ style: TextStyle = .plain) {
        self.text = text
        self.style = style
    }
}

/// Looks that stay readable without colour (TERM=vt100): warnings are bold as well as red.
/// A picture's cells carry their own colours (`PictureCells`); without colour they are plain.
public enum TextStyle: Equatable, Sendable {
    case plain, bold, dim, reverse, good, warning, danger
    case picture(foreground: CellColour, background: CellColour)
}
