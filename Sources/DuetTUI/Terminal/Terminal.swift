import CNcursesw
import Foundation

/// The one owner of ncurses. ncurses is not thread-safe, so a `Terminal` is made, used and
/// closed on a single thread (`TerminalThread`); it only paints `ScreenModel`s and reads keys.
final class Terminal {
    private var hasColours = false
    private var open = true
    /// How pictures are drawn here (terminfo's `colors`).
    private(set) var colours = ColourDepth.none

    /// Enters curses mode: no echo, keys one at a time, a hidden cursor, `readKey` waiting
    /// at most `keyTimeoutMilliseconds`.
    init(keyTimeoutMilliseconds: Int32 = 25) {
        setlocale(LC_ALL, "")
        initscr()
        cbreak()
        noecho()
        nonl()
        keypad(duet_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        wtimeout(duet_stdscr(), keyTimeoutMilliseconds)
        if has_colors() {
            start_color()
            use_default_colors()
            init_pair(1, Int16(COLOR_GREEN), -1)
            init_pair(2, Int16(COLOR_YELLOW), -1)
            init_pair(3, Int16(COLOR_RED), -1)
            hasColours = true
            colours = ColourDepth(colours: Int(duet_colors()))
        }
        // Whatever way the process ends, the shell gets its terminal back.
        atexit { if !isendwin() { endwin() } }
    }

    var size: (width: Int, height: Int) {
        var rows: Int32 = 0, columns: Int32 = 0
        duet_getmaxyx(duet_stdscr(), &rows, &columns)
        return (Int(columns), Int(rows))
    }

    /// The next key, or nil when none came within the timeout.
    func readKey() -> KeyPress? {
        var character: wint_t = 0
        let status = wget_wch(duet_stdscr(), &character)
        if status == ERR { return nil }
        if status == KEY_CODE_YES {
            switch Int32(character) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_ENTER: return .enter
            case KEY_BACKSPACE, KEY_DC: return .backspace
            case duet_key_resize():
                let (width, height) = size
                return .resize(width: width, height: height)
            default: return nil
            }
        }
        switch character {
        case 10, 13: return .enter
        case 27: return .escape
        case 9: return .tab
        case 8, 127: return .backspace
        default:
            guard let scalar = Unicode.Scalar(UInt32(character)), scalar.value >= 32 else { return nil }
            return .character(Character(scalar))
        }
    }

    /// Paints a whole screen. Lines are already exactly the screen's width.
    func paint(_ model: ScreenModel) {
        // Pairs are only ever redefined between frames, never under cells of this one.
        if pairs.count > Int(duet_color_pairs()) / 2 - Self.firstPicturePair { pairs = [:] }
        werase(duet_stdscr())
        for (row, line) in model.lines.enumerated() where row < model.height {
            // Each run starts at the column the renderer gave it (one per Character), so a
            // wide character (CJK, emoji) in a name can only spill into the cells after it,
            // never shift the rest of the row.
            var column = 0
            for run in line.runs {
                wmove(duet_stdscr(), Int32(row), Int32(column))
                if case let .picture(foreground, background) = run.style, hasColours {
                    duet_attr_set(duet_stdscr(), 0, pair(foreground, background))
                } else {
                    wattrset(duet_stdscr(), Int32(bitPattern: attributes(run.style)))
                }
                waddstr(duet_stdscr(), run.text)
                column += run.text.count
            }
        }
        wattrset(duet_stdscr(), 0)
        wrefresh(duet_stdscr())
    }

    /// The colour pair of each picture colour combination in use, numbered from
    /// `firstPicturePair`, after the text's own pairs. A frame has fewer combinations than
    /// cells, so half the table always holds one; past that the numbers are given out again
    /// from the start at the next frame.
    private var pairs: [PairColours: Int32] = [:]
    private static let firstPicturePair = 4

    private struct PairColours: Hashable {
        var foreground: CellColour
        var background: CellColour
    }

    /// The pair for these colours (0, the terminal's own, for a pair ncurses refuses).
    private func pair(_ foreground: CellColour, _ background: CellColour) -> Int32 {
        let key = PairColours(foreground: foreground, background: background)
        if let pair = pairs[key] { return pair }
        let pair = Int32(Self.firstPicturePair + pairs.count)
        guard init_extended_pair(pair, Self.number(foreground), Self.number(background)) != ERR else { return 0 }
        pairs[key] = pair
        return pair
    }

    /// A picture colour as ncurses numbers it: under direct colour the number is the RGB value,
    /// except that terminfo's direct entries send numbers below 8 as the 8 palette colours
    /// (`setaf`), so the darkest blues are lifted to 8 (still black to the eye).
    private static func number(_ colour: CellColour) -> Int32 {
        switch colour {
        case let .rgb(value): Int32(bitPattern: max(8, value & 0xFF_FFFF))
        case let .indexed(index): Int32(index)
        }
    }

    private func attributes(_ style: TextStyle) -> UInt32 {
        switch style {
        case .plain, .picture: 0
        case .bold: UInt32(duet_a_bold())
        case .dim: UInt32(duet_a_dim())
        case .reverse: UInt32(duet_a_reverse())
        case .good: hasColours ? UInt32(duet_color_pair(1)) : 0
        case .warning: UInt32(duet_a_bold()) | (hasColours ? UInt32(duet_color_pair(2)) : 0)
        case .danger: UInt32(duet_a_bold()) | (hasColours ? UInt32(duet_color_pair(3)) : 0)
        }
    }

    /// Leaves curses mode; the terminal is as the shell left it.
    func close() {
        guard open else { return }
        open = false
        endwin()
    }
}
