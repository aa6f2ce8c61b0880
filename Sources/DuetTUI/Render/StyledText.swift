/// One screen column: a character and its look. Every `Character` counts as one column, so the
/// renderer only uses single-width symbols (✓ ● ○ ▌ █ ░ ─ │).
struct Cell: Equatable, Sendable {
    var character: Character
    var style: TextStyle
    /// A space inside a phrase that must stay on one line when wrapped ("KEY CHANGED").
    var keepsTogether = false

    static let blank = Cell(character: " ", style: .plain)
}

/// Text as a row of cells, so width, truncation and wrapping are counted in columns and the
/// styles survive them: a truncated or wrapped "KEY CHANGED" is still `.danger`.
struct StyledText: Equatable, Sendable, ExpressibleByStringLiteral {
    private(set) var cells: [Cell]

    init() { cells = [] }

    init(cells: [Cell]) { self.cells = cells }

    init(_ text: String, _ style: TextStyle = .plain) {
        cells = text.map { Cell(character: Self.printable($0), style: style) }
    }

    init(stringLiteral value: String) { self.init(value) }

    /// A phrase that word wrapping never splits ("KEY CHANGED", "✓ verified").
    static func phrase(_ text: String, _ style: TextStyle) -> StyledText {
        var result = StyledText(text, style)
        for index in result.cells.indices where result.cells[index].character == " " {
            result.cells[index].keepsTogether = true
        }
        return result
    }

    /// `count` spaces.
    static func spaces(_ count: Int, _ style: TextStyle = .plain) -> StyledText {
        StyledText(cells: Array(repeating: Cell(character: " ", style: style), count: max(0, count)))
    }

    /// Width in columns.
    var count: Int { cells.count }
    var isEmpty: Bool { cells.isEmpty }
    /// The characters without their styles.
    var string: String { String(cells.map(\.character)) }

    static func + (lhs: StyledText, rhs: StyledText) -> StyledText {
        StyledText(cells: lhs.cells + rhs.cells)
    }

    static func += (lhs: inout StyledText, rhs: StyledText) { lhs.cells += rhs.cells }

    /// The same characters with every cell in `style` (a highlighted row).
    func restyled(_ style: TextStyle) -> StyledText {
        StyledText(cells: cells.map { Cell(character: $0.character, style: style, keepsTogether: $0.keepsTogether) })
    }

    /// At most `width` columns; text that had to be cut ends in "…" so the reader knows.
    func truncated(to width: Int) -> StyledText {
        guard count > width else { return self }
        guard width > 0 else { return StyledText() }
        let lastStyle = cells[width - 1].style
        return StyledText(cells: Array(cells.prefix(width - 1)) + [Cell(character: "…", style: lastStyle)])
    }

    /// Exactly `width` columns: truncated, or padded on the right with spaces.
    func padded(to width: Int, _ style: TextStyle = .plain) -> StyledText {
        let cut = truncated(to: width)
        return cut + .spaces(width - cut.count, style)
    }

    /// Exactly `width` columns with the text on the right.
    func rightAligned(to width: Int, _ style: TextStyle = .plain) -> StyledText {
        let cut = truncated(to: width)
        return .spaces(width - cut.count, style) + cut
    }

    /// Word-wrapped into lines of at most `width` columns. Breaks at spaces (never inside a
    /// `phrase`); a word longer than a line is cut into pieces so nothing is lost.
    func wrapped(to width: Int) -> [StyledText] {
        guard width > 0 else { return [] }
        guard count > width else { return [self] }
        var lines: [StyledText] = []
        var line: [Cell] = []
        for (separator, word) in words() {
            if line.isEmpty {
                // Continue below.
            } else if line.count + 1 + word.count <= width {
                line.append(separator ?? .blank)
                line += word
                continue
            } else {
                lines.append(StyledText(cells: line))
                line = []
            }
            var rest = word[...]
            while rest.count > width {
                lines.append(StyledText(cells: Array(rest.prefix(width))))
                rest = rest.dropFirst(width)
            }
            line = Array(rest)
        }
        if !line.isEmpty || lines.isEmpty { lines.append(StyledText(cells: line)) }
        return lines
    }

    /// The words between breakable spaces, each with the space cell before it (so a space
    /// inside a styled run keeps that style when the words are joined again).
    private func words() -> [(separator: Cell?, word: [Cell])] {
        var result: [(Cell?, [Cell])] = []
        var separator: Cell?
        var word: [Cell] = []
        for cell in cells {
            if cell.character == " " && !cell.keepsTogether {
                if !word.isEmpty { result.append((separator, word)) }
                separator = cell
                word = []
            } else {
                word.append(cell)
            }
        }
        if !word.isEmpty { result.append((separator, word)) }
        return result
    }

    /// A character that is safe to put in one cell. Control characters (newlines, escapes in a
    /// hostile contact name) would move the terminal's cursor, bidi overrides would reorder the
    /// row, and marks that merge with their neighbour would make a row one column short; all
    /// of them become spaces.
    static func printable(_ character: Character) -> Character {
        let scalars = character.unicodeScalars
        let unsafe = scalars.contains { scalar in
            scalar.properties.generalCategory == .control
                || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
        }
        if unsafe { return " " }
        if scalars.allSatisfy({ $0.properties.generalCategory == .format }) { return " " }
        if scalars.count == 1, let scalar = scalars.first, (0x1F1E6...0x1F1FF).contains(scalar.value) { return " " }
        // A combining mark alone, or a character that joins the next one, would merge with
        // whatever cell sits beside it.
        if ("x" + String(character)).count != 2 || (String(character) + "x").count != 2 { return " " }
        return character
    }

    /// The runs of equal style a `ScreenLine` is made of.
    var screenLine: ScreenLine {
        var runs: [StyledRun] = []
        for cell in cells {
            if let last = runs.last, last.style == cell.style {
                runs[runs.count - 1].text.append(cell.character)
            } else {
                runs.append(StyledRun(String(cell.character), cell.style))
            }
        }
        return ScreenLine(runs)
    }
}

extension Array where Element == StyledText {
    /// Every line of `texts`, each wrapped to `width`.
    static func wrapping(_ texts: [StyledText], to width: Int) -> [StyledText] {
        texts.flatMap { $0.isEmpty ? [$0] : $0.wrapped(to: width) }
    }
}
