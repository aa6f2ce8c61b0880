import DuetClient
import Testing

@testable import DuetTUI

/// Pictures as terminal cells (docs/video.md "In the terminal"): libchafa's cells at each
/// colour depth read back through its per-cell accessors, the brightness ramp without colour,
/// the picture's shape kept whatever the pane's, and the same picture drawing the same cells.
@Suite("Pictures in cells")
struct PictureCellsTests {
    static let alice = VideoPicture(cameraOf: "Alice Liddell", index: 10)
    static let bob = VideoPicture(cameraOf: "Bob Bobbins", index: 10)

    @Test func aPictureKeepsItsShapeInWhateverRoomItIsGiven() {
        // 4:3 in cells twice as tall as wide: 8 rows take about 21 columns.
        #expect(PictureCells.fit(width: 160, height: 120, columns: 100, rows: 8) == (21, 8))
        #expect(PictureCells.fit(width: 160, height: 120, columns: 16, rows: 40) == (16, 6))
        #expect(PictureCells.fit(width: 160, height: 120, columns: 0, rows: 8) == (0, 0))
        // A very wide picture and "as many rows as it needs" (a peer chooses the size).
        #expect(PictureCells.fit(width: 1280, height: 2, columns: 100, rows: .max / 4) == (100, 1))
        #expect(PictureCells.fit(width: 1280, height: 360, columns: 100, rows: .max / 4) == (100, 14))
        #expect(PictureCells.fit(width: 2, height: 720, columns: 100, rows: 30) == (1, 30))
    }

    @Test(arguments: [ColourDepth.direct, .indexed256, .indexed16, .indexed8])
    func eachColourDepthGivesColouredBlockCells(_ depth: ColourDepth) {
        let rows = PictureCells.rows(Self.alice, columns: 40, rows: 15, depth: depth)
        #expect(rows.count == 15 && rows.allSatisfy { $0.count == 40 })
        let cells = rows.flatMap { $0 }
        var colours = Set<CellColour>()
        for cell in cells {
            guard case let .picture(foreground, background) = cell.style else {
                Issue.record("a plain cell in a colour picture: \(cell)")
                return
            }
            colours.insert(foreground)
            colours.insert(background)
            for colour in [foreground, background] {
                switch (depth, colour) {
                case (.direct, .rgb), (.indexed256, .indexed(16...255)), (.indexed16, .indexed(0...15)), (.indexed8, .indexed(0...7)): break
                default: Issue.record("\(colour) at \(depth)")
                }
            }
        }
        #expect(colours.count >= 3, "a scene of several colours: \(colours)")
        // Block elements and spaces only: shapes every terminal font has.
        #expect(cells.allSatisfy { $0.character == " " || ("\u{2580}"..."\u{259F}").contains($0.character) })
        #expect(PictureCells.rows(Self.alice, columns: 40, rows: 15, depth: depth) == rows, "the same picture, the same cells")
        #expect(PictureCells.rows(Self.bob, columns: 40, rows: 15, depth: depth) != rows, "another person, another picture")
    }

    @Test func withoutColourEachCellIsAsBrightAsItsPatch() {
        let rows = PictureCells.rows(Self.alice, columns: 32, rows: 12, depth: .none)
        #expect(rows.count == 12 && rows.allSatisfy { $0.count == 32 })
        #expect(rows.flatMap { $0 }.allSatisfy { $0.style == .plain && PictureCells.ramp.contains($0.character) })
        #expect(Set(rows.flatMap { $0 }.map(\.character)).count >= 3)
        // A black picture is all spaces; a white one all the brightest character.
        let black = [UInt8](repeating: 0, count: 4 * 4 * 3), white = [UInt8](repeating: 255, count: 4 * 4 * 3)
        #expect(PictureCells.brightness(black, width: 4, height: 4, columns: 2, rows: 2).flatMap { $0 }.allSatisfy { $0.character == " " })
        #expect(PictureCells.brightness(white, width: 4, height: 4, columns: 2, rows: 2).flatMap { $0 }.allSatisfy { $0.character == "@" })
    }
}
