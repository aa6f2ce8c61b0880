import DuetClient

/// The tiles of a group call with video (docs/video.md "Tiles"): a picture per member who
/// sends one and one for this camera, laid out by `TileLayout` — the active speaker's (the
/// loudest voice heard among those showing a picture) first and largest — each with its name
/// under it, "camera off" where a
/// camera is off and "no picture" before a first one (or from a member without a camera).
enum GroupTilesView {
    /// Fewer rows than this and the tiles are left out.
    static let minimumRows = 4

    /// One tile's content: whose, and what it shows.
    struct Tile: Equatable {
        var name: String
        var picture: VideoPicture?
        var note: String?
    }

    /// Someone else in the call or meeting, as a tile needs them.
    struct Member {
        var id: String
        var name: String
        var heard: Bool
        var level: Double?
    }

    /// The tiles of a group call.
    static func tiles(_ call: GroupCallView, video: GroupVideo) -> [Tile] {
        tiles(call.participants.map { Member(id: $0.number, name: $0.shortName, heard: $0.heard, level: $0.level) }, video: video)
    }

    /// The tiles of a meeting.
    static func tiles(_ meeting: MeetingView, video: GroupVideo) -> [Tile] {
        tiles(meeting.participants.map { Member(id: $0.id, name: $0.label, heard: $0.heard, level: $0.level) }, video: video)
    }

    /// The tiles of `members`, the speaker's first, at most `TileLayout.maximum`: members in
    /// the room, then "you".
    static func tiles(_ members: [Member], video: GroupVideo) -> [Tile] {
        // The big tile goes to a picture: the loudest heard member who shows one, else the loudest.
        func loudest(_ rows: [Member]) -> Member? {
            rows.filter(\.heard).max { ($0.level ?? -.infinity) < ($1.level ?? -.infinity) }
        }
        let speaker = loudest(members.filter { video.pictures[$0.id] != nil }) ?? loudest(members)
        let ordered = speaker.map { speaker in [speaker] + members.filter { $0.id != speaker.id } } ?? members
        var tiles = ordered.prefix(TileLayout.maximum - 1).map { member in
            if video.camerasOff.contains(member.id) { return Tile(name: member.name, picture: nil, note: "camera off") }
            let picture = video.pictures[member.id]
            return Tile(name: member.name, picture: picture, note: picture == nil ? "no picture" : nil)
        }
        switch video.cameraOn {
        case true?: tiles.append(Tile(name: "you", picture: video.own, note: video.own == nil ? "starting…" : nil))
        case false?: tiles.append(Tile(name: "you", picture: nil, note: "camera off"))
        case nil: break
        }
        return tiles
    }

    /// A pane's lines with the tiles under its title, taking the rows its essential lines leave
    /// (as a 1:1 call's pictures do, `CallPaneView`); without room for them, the pane as it is.
    static func pane(
        _ blocks: [CallPaneView.Block], tiles: [Tile], width: Int, height: Int, colours: ColourDepth
    ) -> [StyledText] {
        guard let title = blocks.first, !tiles.isEmpty else { return CallPaneView.fit(blocks, height: height) }
        let rest = Array(blocks.dropFirst())
        let essential = rest.filter { $0.priority == .essential }.reduce(title.lines.count) { $0 + $1.lines.count }
        let rows = min(height, 10_000) - essential - 1
        guard rows >= minimumRows else { return CallPaneView.fit(blocks, height: height) }
        let pictures = lines(tiles, width: width, rows: rows, colours: colours)
        return title.lines + pictures + [StyledText()] + CallPaneView.fit(rest, height: height - title.lines.count - rows - 1)
    }

    /// Exactly `rows` lines of at most `width` columns.
    static func lines(_ tiles: [Tile], width: Int, rows: Int, colours: ColourDepth) -> [StyledText] {
        var canvas = [StyledText](repeating: StyledText(), count: rows)
        for (tile, place) in zip(tiles, TileLayout.tiles(count: tiles.count, columns: width, rows: rows)) {
            for (offset, line) in draw(tile, columns: place.columns, rows: place.rows, colours: colours).enumerated()
            where place.row + offset < rows {
                let row = place.row + offset
                canvas[row] = canvas[row].padded(to: place.column) + line.truncated(to: place.columns)
            }
        }
        return canvas.map { $0.truncated(to: width) }
    }

    /// One tile: its picture fitted above its name line, or its note in the middle.
    private static func draw(_ tile: Tile, columns: Int, rows: Int, colours: ColourDepth) -> [StyledText] {
        let pictureRows = max(0, rows - 1)
        var lines: [StyledText]
        if let picture = tile.picture, columns >= TileLayout.minimumTile.columns, pictureRows >= TileLayout.minimumTile.rows - 1 {
            lines = PictureCells.rows(picture, columns: columns, rows: pictureRows, depth: colours).map { StyledText(cells: $0) }
        } else {
            lines = (0..<pictureRows).map { $0 == pictureRows / 2 ? StyledText(tile.note ?? "", .dim) : StyledText() }
        }
        lines = lines.map { $0.padded(to: columns) }
        lines.append(StyledText(tile.name, .bold).truncated(to: columns).padded(to: columns))
        return lines
    }
}
