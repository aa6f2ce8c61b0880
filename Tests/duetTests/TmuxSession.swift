import Foundation

/// A `duet` terminal UI running in its own tmux server (a private socket), driven by
/// `send-keys` and read with `capture-pane`, as a person at a terminal would use it.
final class TmuxSession {
    let socket = "duet-test-\(UUID().uuidString.prefix(8))"
    let name = "duet"

    struct TmuxMissing: Error, CustomStringConvertible {
        var description: String { "tmux is not installed; run `make deps`" }
    }

    init(_ arguments: [String], home: URL, width: Int = 100, height: Int = 30) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw TmuxMissing() }
        let command = (["env", "DUET_HOME=\(home.path)", "TERM=xterm-256color", "LANG=C.UTF-8", DuetCommandLine.binary.path] + arguments)
            .map { "'\($0)'" }.joined(separator: " ")
        try tmux(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command])
        try tmux(["set-option", "-t", name, "remain-on-exit", "on"])
    }

    /// The screen as text.
    func screen() -> String {
        (try? tmux(["capture-pane", "-p", "-t", name])) ?? ""
    }

    /// Types keys (tmux key names: "Enter", "Escape", "Down", or literal text).
    func send(_ keys: String...) {
        _ = try? tmux(["send-keys", "-t", name] + keys)
    }

    /// Waits (an upper bound, not a timing assertion) until the screen shows `text`.
    @discardableResult
    func waitFor(_ text: String, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if screen().contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return screen().contains(text)
    }

    /// True once the duet process in the pane has exited.
    var exited: Bool {
        ((try? tmux(["display-message", "-p", "-t", name, "#{pane_dead}"])) ?? "").hasPrefix("1")
    }

    func waitForExit(timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if exited { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return exited
    }

    func kill() {
        _ = try? tmux(["kill-server"])
    }

    deinit { kill() }

    @discardableResult
    private func tmux(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tmux")
        process.arguments = ["-L", socket] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
