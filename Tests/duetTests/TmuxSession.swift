import Foundation
import Synchronization

/// A `duet` terminal UI running in its own tmux server (a private socket), driven by
/// `send-keys` and read with `capture-pane`, as a person at a terminal would use it.
final class TmuxSession {
    let socket = "duet-test-\(UUID().uuidString.prefix(8))"
    let name = "duet"

    struct TmuxMissing: Error, CustomStringConvertible {
        var description: String { "tmux is not installed; run `make deps`" }
    }

    init(_ arguments: [String], home: URL, width: Int = 100, height: Int = 30, term: String = "xterm-256color") throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw TmuxMissing() }
        let command = (["env", "DUET_HOME=\(home.path)", "TERM=\(term)", "LANG=C.UTF-8", DuetCommandLine.binary.path] + arguments)
            .map { "'\($0)'" }.joined(separator: " ") + "; echo \"duet exited with status $?\""
        Self.started.withLock { servers in
            if servers.isEmpty { atexit { TmuxSession.killAll() } }
            servers.insert(socket)
        }
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

    /// Types `text` literally, as a paste would arrive (no key names).
    func paste(_ text: String) {
        _ = try? tmux(["send-keys", "-t", name, "-l", text])
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

    /// Waits until the screen satisfies `condition` (e.g. a repaint after a resize).
    @discardableResult
    func waitUntil(timeout: Duration = .seconds(30), _ condition: (String) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(screen()) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition(screen())
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

    func resize(width: Int, height: Int) {
        _ = try? tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    func kill() {
        _ = try? tmux(["kill-server"])
        _ = Self.started.withLock { $0.remove(socket) }
    }

    /// The tmux servers started and not yet killed. A session a test let go without its deinit
    /// running (held by a task still waiting) left its server — and the duet inside it — running
    /// after the test process ended; they are killed at exit.
    private static let started = Mutex<Set<String>>([])

    private static func killAll() {
        for socket in started.withLock({ $0 }) {
            var pid: pid_t = 0
            let words: [String] = ["/usr/bin/tmux", "-L", socket, "kill-server"]
            let argv = words.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            guard posix_spawn(&pid, "/usr/bin/tmux", nil, nil, argv, environ) == 0 else { continue }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        }
    }

    deinit { kill() }

    /// Runs the tmux client with posix_spawn and waitpid. Foundation's Process never reaped
    /// the client of `new-session -d` here (it forks the tmux server and exits), so the
    /// test hung; output goes to a file for the same reason a pipe would: the server
    /// inherits the client's descriptors.
    @discardableResult
    private func tmux(_ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket)-\(UUID().uuidString).out").path
        defer { unlink(output) }
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = (["/usr/bin/tmux", "-L", socket] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/tmux", &actions, nil, argv, environ)
        guard spawned == 0 else { throw TmuxMissing() }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }
}
