/// How many colours the terminal shows, which sets how a picture is drawn: chafa's truecolor,
/// 240-colour or 16/8-colour canvases, or with no colour at all a ramp of characters by
/// brightness (TERM=vt100). Read from terminfo by the painter (`Terminal`).
public enum ColourDepth: Sendable, Equatable {
    /// Direct colour: any RGB per cell (a `*-direct` terminfo, e.g. TERM=xterm-direct).
    case direct
    case indexed256
    case indexed16
    case indexed8
    /// No colour: shapes of brightness only.
    case none

    /// The depth of a terminal reporting `colours` (terminfo's `colors`; 0 or less for none).
    public init(colours: Int) {
        switch colours {
        case 0x100_0000...: self = .direct
        case 256...: self = .indexed256
        case 16...: self = .indexed16
        case 8...: self = .indexed8
        default: self = .none
        }
    }
}

/// A picture cell's colour as the painter hands it to ncurses: an RGB value under direct
/// colour, a palette index otherwise.
public enum CellColour: Sendable, Equatable, Hashable {
    case rgb(UInt32)
    case indexed(Int)
}
