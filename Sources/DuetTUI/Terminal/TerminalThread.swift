import Foundation

/// The thread that owns the `Terminal`: it reads keys (handing them to the async side) and
/// paints the newest screen model it was given. Keeping ncurses on one thread of its own
/// means a blocking key read never holds up the call engine's tasks.
final class TerminalThread: Sendable {
    private struct Shared: Sendable {
        var pending: ScreenModel?
        var size = (width: 80, height: 24)
        var colours = ColourDepth.none
        var stopRequested = false
        var running = false
        var finished = false
    }

    private let shared = Locked(Shared())
    private let keys: AsyncStream<KeyPress>.Continuation

    init(keys: AsyncStream<KeyPress>.Continuation) {
        self.keys = keys
    }

    /// Starts the thread and waits until curses mode is on.
    func start() async {
        let thread = Thread { [self] in self.loop() }
        thread.name = "duet-terminal"
        thread.start()
        while !shared.withLock({ $0.running || $0.finished }) { try? await Task.sleep(for: .milliseconds(5)) }
    }

    var size: (width: Int, height: Int) { shared.withLock { $0.size } }
    /// The terminal's colours, for drawing pictures (known once `start` returns).
    var colours: ColourDepth { shared.withLock { $0.colours } }

    /// Paints `model` as soon as the thread is free (a newer one replaces an unpainted one).
    func show(_ model: ScreenModel) {
        shared.withLock { $0.pending = model }
    }

    /// Leaves curses mode and waits for the thread to end.
    func stop() async {
        shared.withLock { $0.stopRequested = true }
        while !shared.withLock({ $0.finished }) { try? await Task.sleep(for: .milliseconds(5)) }
    }

    private func loop() {
        let terminal = Terminal()
        let initial = terminal.size
        let colours = terminal.colours
        shared.withLock {
            $0.size = initial
            $0.colours = colours
            $0.running = true
        }
        keys.yield(.resize(width: initial.width, height: initial.height))
        while !shared.withLock({ $0.stopRequested }) {
            if let key = terminal.readKey() {
                if case let .resize(width, height) = key {
                    shared.withLock { $0.size = (width, height) }
                }
                keys.yield(key)
            }
            if let model = shared.withLock({ state -> ScreenModel? in
                defer { state.pending = nil }
                return state.pending
            }) {
                terminal.paint(model)
            }
        }
        terminal.close()
        shared.withLock { $0.finished = true }
    }
}
