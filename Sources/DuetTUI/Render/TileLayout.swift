/// Where the tiles of a group call's pictures go (docs/video.md "Tiles"): a pure function of
/// how many there are and the cells they may take, tested alone.
///
/// With three tiles or more and room for it, the first (the active speaker's) takes the left
/// half and the others share the right; otherwise all share the area. Tiles in a share are a
/// grid whose number of columns gives each picture the most cells (4:3 pictures, cells twice
/// as tall as wide); each tile keeps its last row for the name.
enum TileLayout {
    struct Tile: Equatable {
        var column: Int
        var row: Int
        var columns: Int
        var rows: Int
    }

    /// At most this many tiles: eight others and you.
    static let maximum = 9
    /// Narrower than this, the speaker gets no half of their own.
    static let spotlightWidth = 60
    /// A tile this small shows only its name.
    static let minimumTile = (columns: 8, rows: 3)

    /// `count` tiles (at most `maximum`) in `columns` × `rows` cells; the first is the speaker's.
    static func tiles(count: Int, columns: Int, rows: Int) -> [Tile] {
        let count = min(count, maximum)
        guard count > 0, columns > 0, rows > 0 else { return [] }
        guard count >= 3, columns >= spotlightWidth else { return grid(count, column: 0, columns: columns, rows: rows) }
        let left = columns / 2 - 1
        let speaker = Tile(column: 0, row: 0, columns: left, rows: rows)
        return [speaker] + grid(count - 1, column: left + 2, columns: columns - left - 2, rows: rows)
    }

    /// `count` tiles in a grid from `column`, the columns chosen for the largest pictures.
    private static func grid(_ count: Int, column: Int, columns: Int, rows: Int) -> [Tile] {
        let across =
            (1...count).max {
                pictureCells(count, across: $0, columns: columns, rows: rows)
                    < pictureCells(count, across: $1, columns: columns, rows: rows)
            } ?? 1
        let down = (count + across - 1) / across
        let width = columns / across, height = rows / down
        return (0..<count).map { index in
            Tile(column: column + (index % across) * width, row: (index / across) * height, columns: width - 1, rows: height)
        }
    }

    /// The cells one picture gets when `count` tiles go `across` to a row.
    private static func pictureCells(_ count: Int, across: Int, columns: Int, rows: Int) -> Int {
        let down = (count + across - 1) / across
        let size = PictureCells.fit(width: 4, height: 3, columns: columns / across - 1, rows: rows / down - 1)
        return size.columns * size.rows
    }
}
