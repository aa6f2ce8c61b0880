import CChafa

/// One libchafa canvas of `columns` × `rows` cells: a picture drawn into it, then read back a
/// cell at a time. Made, used and released by one drawing call (`PictureCells`); not shared.
final class ChafaCanvas {
    private let config: OpaquePointer
    private let symbols: OpaquePointer
    private let canvas: OpaquePointer
    let columns: Int
    let rows: Int

    /// chafa spreads large canvases over a thread pool; the terminal's pictures are small and
    /// drawing must leave the other core to the call's audio, so it gets one thread.
    private static let oneThread: Void = chafa_set_n_threads(1)
    static let workFactor: Float = 0.2

    init(columns: Int, rows: Int, mode: ChafaCanvasMode) {
        _ = Self.oneThread
        self.columns = columns
        self.rows = rows
        config = chafa_canvas_config_new()
        chafa_canvas_config_set_geometry(config, Int32(columns), Int32(rows))
        chafa_canvas_config_set_canvas_mode(config, mode)
        // No dithering: the same picture gives the same cells (the golden tests rely on it).
        chafa_canvas_config_set_dither_mode(config, CHAFA_DITHER_MODE_NONE)
        // Little search per cell: chafa's cost is per cell (about 2 µs each here, docs/video.md
        // "Cost"), and its default effort costs half as much again for no visible gain on these
        // scenes.
        chafa_canvas_config_set_work_factor(config, Self.workFactor)
        symbols = chafa_symbol_map_new()
        chafa_symbol_map_add_by_tags(symbols, duet_chafa_block_symbols())
        chafa_canvas_config_set_symbol_map(config, symbols)
        canvas = chafa_canvas_new(config)
    }

    deinit {
        chafa_canvas_unref(canvas)
        chafa_symbol_map_unref(symbols)
        chafa_canvas_config_unref(config)
    }

    /// Scales packed 8-bit RGB of `width` × `height` onto the whole canvas.
    func draw(rgb: [UInt8], width: Int, height: Int) {
        rgb.withUnsafeBufferPointer {
            chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGB8, $0.baseAddress, Int32(width), Int32(height), Int32(width * 3))
        }
    }

    /// The symbol at (`column`, `row`) and its colours: packed RGB under truecolor, palette
    /// indices otherwise (chafa's "raw" colours: its plain accessor gives RGB in every mode);
    /// -1 for a colour the symbol does not show (a space's foreground).
    func cell(column: Int, row: Int, indexed: Bool) -> (symbol: UInt32, foreground: Int, background: Int) {
        var foreground: Int32 = -1, background: Int32 = -1
        if indexed {
            chafa_canvas_get_raw_colors_at(canvas, Int32(column), Int32(row), &foreground, &background)
        } else {
            chafa_canvas_get_colors_at(canvas, Int32(column), Int32(row), &foreground, &background)
        }
        return (chafa_canvas_get_char_at(canvas, Int32(column), Int32(row)), Int(foreground), Int(background))
    }
}
