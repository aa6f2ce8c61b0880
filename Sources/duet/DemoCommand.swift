import ArgumentParser
import Dispatch
import DuetDemo
import Foundation

extension Duet {
    /// `duet demo` (docs/demo.md): plays a story over a fresh server and devices in a temporary
    /// directory, checking each promise, and prints what happened. Exits 1 if a check failed.
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Play the scripted tour (or your own story) on a fresh server, checking every promise.",
            discussion: """
                With no --script, plays the built-in tour (Assets/demo/tour.duet). A script has one
                command a line; docs/demo.md lists them. The script is checked whole before anything
                runs. Nothing outside a temporary directory is touched, and it is removed at the end.
                """)

        @Option(name: .long, help: ArgumentHelp("A story of your own.", valueName: "FILE"))
        var script: String?

        @Flag(name: .long, help: "Print the steps, timings and results as JSON (for CI) instead of the transcript.")
        var json = false

        @Flag(name: .long, help: "Play the story in the terminal UI, as one device sees it.")
        var tui = false

        @Option(
            name: .long, help: ArgumentHelp("With --tui: whose screen to show (default: the first registered device).", valueName: "NAME"))
        var view: String?

        @Option(
            name: .long,
            help: ArgumentHelp("Play faster (2) or slower (0.5); with --tui the default pace is for a watching person.", valueName: "X"))
        var speed: Double = 1

        @Flag(name: .long, help: "Only check the script and print its steps; run nothing.")
        var check = false

        func validate() throws {
            guard speed.isFinite, speed >= 0.05, speed <= 100 else { throw ValidationError("--speed must be between 0.05 and 100") }
            if json && tui { throw ValidationError("--json and --tui cannot be combined: choose one output") }
            if view != nil && !tui { throw ValidationError("--view chooses the device --tui shows; add --tui") }
        }

        func run() async throws {
            let story = try loadScript()
            if let view {
                let registered = story.steps.flatMap { step -> [String] in if case let .register(names) = step.command { names } else { [] }
                }
                guard registered.contains(view) else {
                    throw CommandFailure(
                        "--view \(view): the story registers no device called \(view); it registers \(registered.joined(separator: ", "))")
                }
            }
            if check {
                print("\(story.file): \(story.steps.count) steps, all well formed")
                for step in story.steps { print(String(format: "%4d  ", step.line) + step.text) }
                return
            }
            var options = DemoRunOptions()
            options.speed = speed
            let transcript: DemoTranscript
            if tui {
                options.pause = .milliseconds(1200)
                transcript = try await DemoTerminalUI.play(story, options: options, view: view)
            } else {
                let json = self.json
                if !json {
                    printEventLine(
                        "duet demo: \(story.file), \(story.steps.count) steps, on a fresh server and devices in a temporary directory")
                }
                let playing = Task {
                    await DemoRunner(script: story, options: options).run { step in
                        if !json { for line in step.lines { printEventLine(line) } }
                    }
                }
                // Ctrl-C stops the story after its current step, and the world is still removed.
                let interrupt = Self.onInterrupt { playing.cancel() }
                transcript = await playing.value
                interrupt.forEach { $0.cancel() }
                if json { print(transcript.json()) }
            }
            if !json { printEventLine(transcript.summary.joined(separator: "\n")) }
            if !transcript.passed { throw ExitCode(1) }
        }

        /// Calls `stop` on SIGINT or SIGTERM instead of dying with the world still up.
        private static func onInterrupt(_ stop: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
            [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number)
                source.setEventHandler(handler: stop)
                source.resume()
                return source
            }
        }

        private func loadScript() throws -> DemoScript {
            do {
                if let script { return try DemoScript(contentsOf: URL(fileURLWithPath: script)) }
                return try DemoScript(parsing: DemoStories.tour, file: "tour.duet")
            } catch let error as DemoScriptError {
                throw CommandFailure("the script was not run: \(error)")
            }
        }
    }
}
