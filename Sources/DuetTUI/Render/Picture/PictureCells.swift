import CChafa
import DuetClient

/// A picture as rows of terminal cells (docs/video.md "In the terminal"): libchafa picks a
/// block symbol and two colours per cell, read back through its per-cell accessors; with no
/// colour, each cell is a character as bright as its patch of picture. A pure function of
/// the picture, the size and the depth: the same input draws the same cells.
enum PictureCells {
    /// Characters from dark to bright, for terminals without colour.
    static let ramp = Array(" .:-=+*#%@")
    /// A terminal cell is about twice as tall as it is wide.
    static let cellAspect = 2.0

    /// The largest size in cells, at most `columns` × `rows`, that shows a `width` × `height`
    /// picture undistorted.
    static func fit(width: Int, height: Int, columns: Int, rows: Int) -> (columns: Int, rows: Int) {
        guard width > 0, height > 0, columns > 0, rows > 0 else { return (0, 0) }
        let aspect = Double(width) / Double(height) * cellAspect
        // In Double until the result is known to fit: `rows` may be a huge "as many as needed".
        let rowsAtFullWidth = Double(columns) / aspect
        if rowsAtFullWidth <= Double(rows) { return (columns, max(1, min(rows, Int(rowsAtFullWidth.rounded())))) }
        return (max(1, min(columns, Int((Double(rows) * aspect).rounded()))), rows)
    }

    /// The last pictures drawn: a screen is redrawn for a key or a tick far more often than a
    /// new picture comes, and chafa's work is the dearest part of a redraw. Drawing happens
    /// in one task at a time; the lock only makes the cache safe to share.
    private static let drawn = Locked<[(key: Key, rows: [[Cell]])]>([])
    private static let cacheSize = 12

    private struct Key: Equatable {
        var picture: VideoPicture
        var columns: Int
        var rows: Int
        var depth: ColourDepth
    }

    /// `picture` fitted into `columns` × `rows` (see `fit`): one row of cells per line.
    static func rows(_ picture: VideoPicture, columns: Int, rows: Int, depth: ColourDepth) -> [[Cell]] {
        let key = Key(picture: picture, columns: columns, rows: rows, depth: depth)
        if let cached = drawn.withLock({ $0.first { $0.key == key }?.rows }) { return cached }
        let cells = draw(picture, columns: columns, rows: rows, depth: depth)
        drawn.withLock {
            $0.insert((key, cells), at: 0)
            if $0.count > cacheSize { $0.removeLast() }
        }
        return cells
    }

    private static func draw(_ picture: VideoPicture, columns: Int, rows: Int, depth: ColourDepth) -> [[Cell]] {
        let size = fit(width: picture.width, height: picture.height, columns: columns, rows: rows)
        guard size.columns > 0 else { return [] }
        let rgb = picture.rgb()
        guard let mode = mode(depth) else {
            return brightness(rgb, width: picture.width, height: picture.height, columns: size.columns, rows: size.rows)
        }
        let canvas = ChafaCanvas(columns: size.columns, rows: size.rows, mode: mode)
        canvas.draw(rgb: rgb, width: picture.width, height: picture.height)
        return (0..<size.rows).map { row in
            (0..<size.columns).map { column in
                let cell = canvas.cell(column: column, row: row, indexed: depth != .direct)
                let symbol = Unicode.Scalar(cell.symbol).map(Character.init) ?? " "
                // A colour the symbol does not show takes the other's, so no cell falls back
                // to the terminal's default colours.
                let foreground = cell.foreground >= 0 ? cell.foreground : max(0, cell.background)
                let background = cell.background >= 0 ? cell.background : foreground
                return Cell(
                    character: symbol, style: .picture(foreground: colour(foreground, depth), background: colour(background, depth)))
            }
        }
    }

    private static func mode(_ depth: ColourDepth) -> ChafaCanvasMode? {
        switch depth {
        case .direct: CHAFA_CANVAS_MODE_TRUECOLOR
        // 240, not 256: the first 16 are the user's own palette, which may be anything.
        case .indexed256: CHAFA_CANVAS_MODE_INDEXED_240
        case .indexed16: CHAFA_CANVAS_MODE_INDEXED_16
        case .indexed8: CHAFA_CANVAS_MODE_INDEXED_8
        case .none: nil
        }
    }

    private static func colour(_ value: Int, _ depth: ColourDepth) -> CellColour {
        depth == .direct ? .rgb(UInt32(truncatingIfNeeded: value)) : .indexed(value)
    }

    /// Each cell the ramp's character for the mean brightness (BT.601 luma) of its patch.
    static func brightness(_ rgb: [UInt8], width: Int, height: Int, columns: Int, rows: Int) -> [[Cell]] {
        (0..<rows).map { row in
            let top = row * height / rows, bottom = max(top + 1, (row + 1) * height / rows)
            return (0..<columns).map { column in
                let left = column * width / columns, right = max(left + 1, (column + 1) * width / columns)
                var sum = 0
                for y in top..<bottom {
                    for x in left..<right {
                        let at = (y * width + x) * 3
                        sum += 77 * Int(rgb[at]) + 150 * Int(rgb[at + 1]) + 29 * Int(rgb[at + 2])
                    }
                }
                let luma = (sum / ((bottom - top) * (right - left))) >> 8
                return Cell(character: ramp[min(ramp.count - 1, luma * ramp.count / 256)], style: .plain)
            }
        }
    }
}
