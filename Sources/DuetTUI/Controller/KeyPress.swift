/// A key as the controller understands it, free of ncurses codes so key handling is tested
/// without a terminal.
public enum KeyPress: Equatable, Sendable {
    case character(Character)
    case up, down, enter, escape, backspace, tab
    /// The terminal changed size.
    case resize(width: Int, height: Int)
}
