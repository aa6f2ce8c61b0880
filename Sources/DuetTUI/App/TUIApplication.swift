import Dispatch
import Foundation

/// The terminal client's main loop: keys from the terminal thread go to the controller,
/// and after every key, engine event and quarter-second tick the state is drawn again.
/// SIGINT and SIGTERM end it like `q` does (hanging up a call first); the terminal is
/// restored on every way out.
public enum TUIApplication {
    public static func run(_ controller: TUIController) async {
        let (keys, keySink) = AsyncStream.makeStream(of: KeyPress.self)
        let terminal = TerminalThread(keys: keySink)
        await terminal.start()

        @Sendable func redraw() async {
            let state = await controller.state
            let size = terminal.size
            terminal.show(ScreenRenderer.render(state, width: size.width, height: size.height))
        }

        let signals = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler {
                Task {
                    await controller.quit()
                    keySink.finish()
                }
            }
            source.resume()
            return source
        }
        await controller.start { Task { await redraw() } }
        let ticker = Task {
            while !Task.isCancelled {
                await controller.tick()
                await redraw()
                try? await Task.sleep(for: .milliseconds(250))
            }
        }

        for await key in keys {
            await controller.handle(key)
            await redraw()
            if await controller.quitRequested { break }
        }
        ticker.cancel()
        signals.forEach { $0.cancel() }
        await terminal.stop()
    }
}
