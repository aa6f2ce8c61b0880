import Dispatch
import Foundation

/// The terminal client's main loop (btop's split: input, collect, draw): keys from the
/// terminal thread go to the controller, the controller and a quarter-second tick collect
/// news into the state, and every change marks the screen dirty for the one `RedrawLoop`
/// that draws the newest state. SIGINT and SIGTERM end it like `q` does (hanging up a call
/// first); the terminal is restored on every way out.
public enum TUIApplication {
    public static func run(_ controller: TUIController) async {
        let (keys, keySink) = AsyncStream.makeStream(of: KeyPress.self)
        let terminal = TerminalThread(keys: keySink)
        await terminal.start()
        let redraws = RedrawLoop()
        let drawing = Task {
            await redraws.run {
                let state = await controller.state
                let size = terminal.size
                terminal.show(ScreenRenderer.render(state, width: size.width, height: size.height, colours: terminal.colours))
            }
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
        await controller.start { redraws.markDirty() }
        let ticker = Task {
            while !Task.isCancelled {
                await controller.tick()
                redraws.markDirty()
                try? await Task.sleep(for: .milliseconds(250))
            }
        }

        for await key in keys {
            await controller.handle(key)
            redraws.markDirty()
            if await controller.quitRequested { break }
        }
        ticker.cancel()
        redraws.finish()
        await drawing.value
        signals.forEach { $0.cancel() }
        await terminal.stop()
    }
}
