// ncursesw, owned by DuetTUI's terminal painter.
//
// SwiftPM drops the -D flags of ncursesw.pc, so wide-character support is switched on here
// before the include. getmaxyx and the attribute/ACS constants are macros, and stdscr, LINES
// and COLS are mutable globals that Swift 6 rejects: each gets a static inline shim. Picture
// cells use extended colour pairs (beyond 255, and direct RGB colours under a *-direct
// terminfo), which only reach wattr_set through its opts pointer; COLOR_PAIRS is a global.
#ifndef DUET_CNCURSESW_H
#define DUET_CNCURSESW_H
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <ncursesw/curses.h>

static inline WINDOW *duet_stdscr(void) { return stdscr; }
static inline int duet_lines(void) { return LINES; }
static inline int duet_cols(void) { return COLS; }
static inline void duet_getmaxyx(WINDOW *w, int *y, int *x) { int yy, xx; getmaxyx(w, yy, xx); *y = yy; *x = xx; }
static inline attr_t duet_a_bold(void) { return A_BOLD; }
static inline attr_t duet_a_reverse(void) { return A_REVERSE; }
static inline attr_t duet_a_dim(void) { return A_DIM; }
static inline attr_t duet_a_underline(void) { return A_UNDERLINE; }
static inline attr_t duet_color_pair(short n) { return COLOR_PAIR(n); }
static inline int duet_key_resize(void) { return KEY_RESIZE; }
static inline int duet_colors(void) { return COLORS; }
static inline int duet_color_pairs(void) { return COLOR_PAIRS; }
static inline int duet_attr_set(WINDOW *w, attr_t attrs, int pair) { return wattr_set(w, attrs, 0, &pair); }
#endif
