import DuetDemo
import DuetTUI
import Foundation
import Synchronization

/// `duet demo --tui`: the story plays while the terminal UI shows one device's screen — its
/// calls, meetings, keys — with each step and check narrated in the event log, paced for a
/// watching person. The viewer quits with q once the story is over (or earlier, which stops it).
enum DemoTerminalUI {
    static func play(_ story: DemoScript, options: DemoRunOptions, view: String?) async throws -> DemoTranscript {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw CommandFailure("duet demo --tui needs a terminal; without one, run duet demo (or --json)")
        }
        let viewed = Mutex<DemoDeviceHandle?>(nil)
        let (steps, stepSink) = AsyncStream.makeStream(of: DemoTranscript.Step.self)
        let (ending, endingSink) = AsyncStream.makeStream(of: DemoTranscript.self)
        let (quit, quitSink) = AsyncStream.makeStream(of: Void.self)
        print("duet demo --tui: \(story.file), \(story.steps.count) steps; the screen will show \(view ?? "the first registered device")")
        let runner = DemoRunner(script: story, options: options)
        let playing = Task {
            await runner.run(
                onStep: { stepSink.yield($0) },
                onDevice: { handle in
                    viewed.withLock { current in if current == nil, view == nil || handle.name == view { current = handle } }
                },
                onFinished: { transcript in
                    stepSink.finish()
                    endingSink.yield(transcript)
                    // The world stays up until the viewer has read the ending and quit.
                    for await _ in quit { break }
                })
        }
        // Until the viewed device is registered, the steps print as plain lines.
        var stepIterator = steps.makeAsyncIterator()
        while viewed.withLock({ $0 }) == nil, let step = await stepIterator.next() {
            for line in step.lines { print(line) }
        }
        guard let handle = viewed.withLock({ $0 }) else {
            quitSink.yield()
            let transcript = await playing.value
            if let view, transcript.passed { throw CommandFailure("no registered device is called \(view) in \(transcript.script)") }
            return transcript
        }
        let controller: TUIController
        do {
            controller = try TUIController(
                session: handle.session, engine: handle.calls, groupEngine: handle.groups,
                meetingEngine: handle.meetings, profile: "demo: \(handle.name)", embedded: true)
        } catch {
            playing.cancel()
            quitSink.yield()
            _ = await playing.value
            throw CommandFailure(error)
        }
        await controller.handle(.character("l"))  // the event log open: the story is narrated there
        let narrator = Task { [stepIterator] in await narrate(rest: stepIterator, ending: ending, to: controller) }
        await TUIApplication.run(controller)
        quitSink.yield()
        playing.cancel()
        narrator.cancel()
        return await playing.value
    }

    /// The steps after the viewed device appeared, then the story's summary, into the log.
    private static func narrate(
        rest: AsyncStream<DemoTranscript.Step>.AsyncIterator, ending: AsyncStream<DemoTranscript>, to controller: TUIController
    ) async {
        var rest = rest
        while let step = await rest.next() { await narrate(step, to: controller) }
        var endings = ending.makeAsyncIterator()
        guard let transcript = await endings.next() else { return }
        for line in transcript.summary where !line.isEmpty {
            await controller.narrate(line, transcript.failure == nil ? .good : .error)
        }
        await controller.narrate("the story is over: press q to leave", .info)
    }

    private static func narrate(_ step: DemoTranscript.Step, to controller: TUIController) async {
        switch step.status {
        case .narration: await controller.narrate("── " + (step.detail ?? step.command), .info)
        case .passed:
            await controller.narrate("✓ \(step.command)", step.isCheck ? .good : .info)
            for line in (step.detail ?? "").split(separator: "\n") { await controller.narrate("   " + line, .info) }
        case .failed: await controller.narrate("✗ \(step.command): \(step.detail ?? "failed")", .error)
        case .skipped: break
        }
    }
}
