import Foundation

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
        let command =
            (["env", "DUET_HOME=\(home.path)", "TERM=\(term)", "LANG=C.UTF-8", DuetCommandLine.binary.path] + arguments)
            .map { "'\($0)'" }.joined(separator: " ") + "; echo \"duet exited with status $?\""
        try tmux(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command])
        try tmux(["set-option", "-t", name, "remain-on-exit", "on"])
    }

    /// The screen as text; with `escapes`, with the colour sequences tmux would send.
    func screen(escapes: Bool = false) -> String {
        (try? tmux(["capture-pane", "-p"] + (escapes ? ["-e"] : []) + ["-t", name])) ?? ""
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
    }

    deinit { kill() }

    /// Spawn attributes with an empty signal mask. The spawning thread (a Swift concurrency or
    /// NIO thread) blocks nearly every signal, a spawned process inherits that mask, and a tmux
    /// server that cannot receive SIGTERM or SIGCHLD never acts on `kill-server`: every TUI test
    /// left its server, and the duet inside it, running.
    private static func withUnblockedSignals(_ body: (UnsafePointer<posix_spawnattr_t>) -> Int32) -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        return body(&attributes)
    }

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
        let spawned = Self.withUnblockedSignals { posix_spawn(&pid, "/usr/bin/tmux", &actions, $0, argv, environ) }
        guard spawned == 0 else { throw TmuxMissing() }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }
}
