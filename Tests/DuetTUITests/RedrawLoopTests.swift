import Testing

@testable import DuetTUI

/// The one redraw path, without ncurses: a burst of changes ends with the newest state drawn,
/// and no draw ever shows an older state than the draw before it.
@Suite("RedrawLoop")
struct RedrawLoopTests {
    /// Stands for the controller: a state that only moves forward.
    actor Model {
        private(set) var generation = 0
        func change() { generation += 1 }
    }

    @Test func aBurstOfChangesEndsWithTheNewestStateDrawnInOrder() async {
        let model = Model()
        let loop = RedrawLoop()
        let drawn = Locked<[Int]>([])
        let drawing = Task {
            await loop.run {
                let generation = await model.generation
                // A slow terminal: changes pile up while a draw runs.
                try? await Task.sleep(for: .milliseconds(1))
                drawn.withLock { $0.append(generation) }
            }
        }
        // Changes from several tasks at once, as keys, engine events and the tick make them.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<250 {
                        await model.change()
                        loop.markDirty()
                    }
                }
            }
        }
        loop.finish()
        await drawing.value
        let draws = drawn.withLock { $0 }
        #expect(draws.last == 1000)
        #expect(draws == draws.sorted(), "an older state was drawn after a newer one")
        // Marks made during a draw fold into one more draw: far fewer draws than changes.
        #expect(draws.count < 1000)
    }

    @Test func aMarkAfterTheLastDrawDrawsAgain() async {
        let loop = RedrawLoop()
        let count = Locked(0)
        let drawing = Task { await loop.run { count.withLock { $0 += 1 } } }
        loop.markDirty()
        while count.withLock({ $0 }) < 1 { await Task.yield() }
        loop.markDirty()
        loop.finish()
        await drawing.value
        #expect(count.withLock { $0 } == 2)
    }

    @Test func nothingIsDrawnWithoutAChange() async {
        let loop = RedrawLoop()
        let count = Locked(0)
        let drawing = Task { await loop.run { count.withLock { $0 += 1 } } }
        loop.finish()
        await drawing.value
        #expect(count.withLock { $0 } == 0)
    }
}
