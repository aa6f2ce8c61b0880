import ArgumentParser
import DuetClient
import Foundation

extension Duet {
    /// `duet bot echo|tone`: a device that answers every call — the Echo Test sends back what
    /// it hears, the tone bot plays its own voice — until interrupted.
    struct Bot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a bot on this profile: 'echo' plays your audio back, 'tone' plays its own voice.")

        enum Kind: String, ExpressibleByArgument, CaseIterable { case echo, tone }

        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @Argument(help: "echo or tone.") var kind: Kind

        func run() async throws {
            var options = CallOptions()
            options.autoAnswer = true
            options.echo = kind == .echo
            let session = try await serverOptions.session(profile)
            let engine = try CallEngine(session: session, options: options)
            await engine.start()
            printEventLine("\(kind.rawValue) bot answering calls to \(try session.store.account().number ?? "?") (Ctrl-C to stop)")
            for await event in engine.events {
                printEventLine(event.description)
            }
        }
    }
}
