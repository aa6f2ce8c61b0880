import Testing

@testable import DuetTUI

@Suite("Layout")
struct LayoutTests {
    @Test func eightyByTwentyFour() throws {
        let layout = try #require(Layout(width: 80, height: 24, showLog: false))
        #expect(layout.statusRow == 0)
        #expect(layout.messageRow == 22)
        #expect(layout.hintsRow == 23)
        #expect(layout.body == Rect(row: 1, column: 0, width: 80, height: 21))
        #expect(layout.list == Rect(row: 1, column: 0, width: 28, height: 21))
        #expect(layout.separatorColumn == 28)
        #expect(layout.detail == Rect(row: 1, column: 29, width: 51, height: 21))
        #expect(layout.log == nil)
    }

    @Test func theListTakesAboutAThirdOfWideTerminals() throws {
        #expect(try #require(Layout(width: 100, height: 30, showLog: false)).list.width == 35)
        #expect(try #require(Layout(width: 200, height: 60, showLog: false)).list.width == 70)
        #expect(try #require(Layout(width: 81, height: 24, showLog: false)).list.width == 28)
    }

    @Test func theLogTakesFortyPercentOfTheRightPaneAndAtLeastFiveRows() throws {
        let small = try #require(Layout(width: 80, height: 24, showLog: true))
        #expect(small.detail == Rect(row: 1, column: 29, width: 51, height: 13))
        #expect(small.log == Rect(row: 14, column: 29, width: 51, height: 8))
        let tall = try #require(Layout(width: 120, height: 60, showLog: true))
        #expect(tall.log?.height == 23)
        #expect(tall.detail.height + (tall.log?.height ?? 0) == tall.body.height)
    }

    @Test(arguments: [(80, 24), (100, 30), (133, 41), (200, 60), (500, 200)])
    func partsTileTheScreenWithoutOverlap(size: (Int, Int)) throws {
        for showLog in [false, true] {
            let layout = try #require(Layout(width: size.0, height: size.1, showLog: showLog))
            #expect(layout.list.column + layout.list.width == layout.separatorColumn)
            #expect(layout.detail.column == layout.separatorColumn + 1)
            #expect(layout.detail.column + layout.detail.width == size.0)
            #expect(layout.list.height == size.1 - 3)
            #expect(layout.detail.height >= 5)
            if let log = layout.log {
                #expect(log.row == layout.detail.row + layout.detail.height)
                #expect(log.row + log.height == layout.messageRow)
                #expect(log.height >= Layout.minimumLogRows)
            }
        }
    }

    @Test(arguments: [(79, 24), (80, 23), (0, 0), (-1, 100), (1000, 10)])
    func tooSmallHasNoLayout(size: (Int, Int)) {
        #expect(Layout(width: size.0, height: size.1, showLog: false) == nil)
    }
}
