import Foundation
import Synchronization

/// A `duet` process left running while the test goes on (a call, an answering device, a
/// bot): its output is collected line by line so the test can wait for a line.
final class DuetChild: Sendable {
    private let process: Process
    private let output = Output()

    /// What the process printed so far; the pipe's handler appends from its own thread. The
    /// timeline is the same text with each chunk's arrival (ms since start), for failure messages.
    private final class Output: Sendable {
        let text = Mutex<String>("")
        let timeline = Mutex<String>("")
        let started = ContinuousClock.now
    }

    /// `namespace`: run inside that network namespace (a host of a `NetworkLab`).
    init(_ arguments: [String], home: URL, environment extra: [String: String] = [:], namespace: String? = nil) throws {
        process = Process()
        DuetCommandLine.aim(process, at: arguments, in: namespace)
        var environment = ProcessInfo.processInfo.environment
        environment["DUET_HOME"] = home.path
        environment.merge(extra) { $1 }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [output] handle in
            let chunk = handle.availableData
            guard !chunk.isEmpty else { return }
            let text = String(decoding: chunk, as: UTF8.self)
            output.text.withLock { $0 += text }
            let at = (ContinuousClock.now - output.started).components
            output.timeline.withLock { $0 += "[+\(at.seconds * 1000 + at.attoseconds / 1_000_000_000_000_000) ms] " + text }
        }
        try process.run()
    }

    var text: String { output.text.withLock { $0 } }
    /// `text` with when each part arrived.
    var timeline: String { output.timeline.withLock { $0 } }
    var lines: [String] { text.split(separator: "\n").map(String.init) }

    /// Waits (an upper bound, not a timing assertion) for a line containing `fragment`.
    @discardableResult
    func waitForLine(containing fragment: String, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if text.contains(fragment) { return true }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return text.contains(fragment)
    }

    /// Waits (an upper bound, not a timing assertion) until `condition` holds for the output
    /// so far, or the process ends.
    @discardableResult
    func waitUntil(timeout: Duration = .seconds(30), _ condition: (DuetChild) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, process.isRunning {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return condition(self)
    }

    /// Waits for the process to exit and returns its status (nil if it is still running).
    func waitForExit(timeout: Duration = .seconds(60)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(25))
        }
        guard !process.isRunning else { return nil }
        try? await Task.sleep(for: .milliseconds(50))  // let the last output arrive
        return process.terminationStatus
    }

    /// SIGKILL: the process vanishes without a word to anyone.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { kill() }
}
