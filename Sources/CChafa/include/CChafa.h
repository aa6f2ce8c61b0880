// libchafa, owned by DuetTUI's PictureCells: a picture turned into character cells, read back
// cell by cell (chafa_canvas_get_char_at / get_colors_at) and drawn through ncurses, never as
// chafa's own escape output, which would go around ncurses' model of the screen.
//
// The symbol tags are a C enum of flags that Swift imports awkwardly: the set Duet draws with
// gets a shim.
#ifndef DUET_CCHAFA_H
#define DUET_CCHAFA_H
#include <chafa.h>

/// Block elements (halves, quarters, eighths) and the space: shapes every terminal font has.
static inline ChafaSymbolTags duet_chafa_block_symbols(void) {
    return (ChafaSymbolTags)(CHAFA_SYMBOL_TAG_BLOCK | CHAFA_SYMBOL_TAG_SPACE | CHAFA_SYMBOL_TAG_SOLID);
}
#endif
