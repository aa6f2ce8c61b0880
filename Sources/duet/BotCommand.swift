import ArgumentParser
import DuetClient
import Foundation

extension Duet {
    /// `duet bot echo|tone`: a device that answers every call — the Echo Test sends back what
    /// it hears, the tone bot plays its own voice — until interrupted.
    struct Bot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a bot on this profile: 'echo' plays your audio back, 'tone' plays its own voice.")

        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @Argument(help: "echo or tone.") var kind: CallBot.Kind

        func run() async throws {
            let session = try await serverOptions.session(profile)
            let bot = try await CallBot(kind: kind, session: session)
            printEventLine("\(kind.rawValue) bot answering calls to \(try session.store.account().number ?? "?") (Ctrl-C to stop)")
            for await event in bot.engine.events {
                printEventLine(event.description)
            }
        }
    }
}

extension CallBot.Kind: ExpressibleByArgument {}
