import DuetClient
import Testing

@testable import DuetTUI

/// The tiles of a group call with video (docs/video.md "Tiles"): where they go, and what each says.
@Suite("Group call tiles")
struct GroupTilesTests {
    /// No two tiles share a cell and none leaves the area.
    func expectDisjoint(_ tiles: [TileLayout.Tile], columns: Int, rows: Int) {
        var taken = Set<Int>()
        for tile in tiles {
            #expect(tile.column >= 0 && tile.row >= 0 && tile.column + tile.columns <= columns && tile.row + tile.rows <= rows, "\(tile)")
            for row in tile.row..<(tile.row + tile.rows) {
                for column in tile.column..<(tile.column + tile.columns) {
                    #expect(taken.insert(row * columns + column).inserted, "\(tile)")
                }
            }
        }
    }

    /// Nine at 100×30: the speaker's tile is the left half, the eight others share the right in
    /// a grid, every one big enough for a picture and its name.
    @Test func nineTilesFitAHundredByThirtyWithTheSpeakerLargest() {
        let tiles = TileLayout.tiles(count: 9, columns: 100, rows: 30)
        #expect(tiles.count == 9)
        expectDisjoint(tiles, columns: 100, rows: 30)
        let speaker = tiles[0], others = tiles.dropFirst()
        #expect(others.allSatisfy { $0.columns * $0.rows < speaker.columns * speaker.rows })
        #expect(others.allSatisfy { $0.columns >= TileLayout.minimumTile.columns && $0.rows >= TileLayout.minimumTile.rows })
        // Ten or more: still nine.
        #expect(TileLayout.tiles(count: 12, columns: 100, rows: 30).count == 9)
    }

    /// Two tiles share the area side by side (wide) or one above the other (tall); a narrow
    /// pane gives the speaker no half of their own.
    @Test func fewTilesOrANarrowPaneShareTheAreaEvenly() {
        let wide = TileLayout.tiles(count: 2, columns: 80, rows: 12)
        #expect(wide.count == 2 && wide[0].row == wide[1].row && wide[0].columns == wide[1].columns)
        let tall = TileLayout.tiles(count: 2, columns: 30, rows: 30)
        #expect(tall[0].column == tall[1].column && tall[0].rows == tall[1].rows)
        let narrow = TileLayout.tiles(count: 4, columns: 50, rows: 20)
        expectDisjoint(narrow, columns: 50, rows: 20)
        #expect(Set(narrow.map { $0.columns * $0.rows }).count == 1)
        #expect(TileLayout.tiles(count: 0, columns: 100, rows: 30).isEmpty && TileLayout.tiles(count: 3, columns: 0, rows: 5).isEmpty)
    }

    /// In the pane: the loudest heard member first, a picture in each tile that has one, names
    /// under them, "camera off" for a member who turned theirs off, "you" for this camera; the
    /// members' rows are still there.
    @Test func thePaneShowsEachMembersPictureUnderItsName() {
        let state = Fixtures.inGroupCall {
            $0.groupCall?.video = GroupVideo(
                pictures: ["+15550002": VideoPicture(cameraOf: "+15550002", index: 3)], camerasOff: ["+15550004"],
                own: VideoPicture(cameraOf: "+15550001", index: 3), cameraOn: true)
        }
        let call = try! #require(state.groupCall)
        let tiles = GroupTilesView.tiles(call, video: try! #require(call.video))
        #expect(tiles.map(\.name) == ["Bob", "Dave", "you"])
        #expect(tiles.map(\.note) == [nil, "camera off", nil])
        let pane = GroupCallPaneView.lines(state, width: 80, height: 30, colours: .none).map(\.string)
        let tileLines = pane.prefix(while: { !$0.hasPrefix("Path") })
        #expect(["Bob", "Dave", "you"].allSatisfy { name in tileLines.contains { $0.contains(name) } }, "\(pane.joined(separator: "\n"))")
        #expect(pane.contains { $0.contains("camera off") })
        // Pictures drawn as characters by brightness: rows of the ramp under the names' line.
        #expect(pane.filter { $0.contains("@") || $0.contains("#") }.count >= 4, "\(pane.joined(separator: "\n"))")
        #expect(pane.contains { $0.hasPrefix("Bob") && $0.hasSuffix("hearing") })
        // V is offered while the camera is on.
        #expect(ScreenRenderer.render(state, width: 100, height: 30).joinedText.contains("V camera off"))
    }

    /// A meeting with cameras shows the same tiles: the guest's picture under their label,
    /// and V offered.
    @Test func aMeetingShowsItsParticipantsInTiles() {
        let state = Fixtures.inMeeting {
            $0.meeting?.video = GroupVideo(
                pictures: ["guest-1a2b3c4d": VideoPicture(cameraOf: "Frank", index: 5)], own: VideoPicture(cameraOf: "+15550001", index: 5))
        }
        let pane = MeetingPaneView.lines(state, width: 80, height: 30, colours: .none).map(\.string)
        #expect(
            pane.contains { $0.contains("Frank (guest)") } && pane.contains { $0.contains("no picture") }, "\(pane.joined(separator: "\n"))"
        )
        #expect(pane.filter { $0.contains("@") || $0.contains("#") }.count >= 4, "\(pane.joined(separator: "\n"))")
        #expect(ScreenRenderer.render(state, width: 100, height: 30).joinedText.contains("V camera off"))
    }
}
