import Foundation
import Synchronization

/// A private PostgreSQL cluster for the tests (docs/testing.md "PostgreSQL"): its own data
/// directory under /tmp and its own port, started once per test process on first use and
/// stopped when the process exits — never the machine's own cluster. A cluster an earlier run
/// left behind (its process was killed) is stopped and removed by the next run.
///
/// Runs as the `postgres` user when the tests run as root (initdb refuses root). Each test
/// takes a fresh database (`makeDatabase`) and drops it when done.
public final class PostgresCluster: Sendable {
    public let port: Int
    /// The address every test connects to; `listenAddresses` may add more (namespaced hosts).
    public let host = "127.0.0.1"
    let directory: URL
    private let binaries: URL

    private static let prefix = "duet-pg-"
    private static let shared = Mutex<Result<PostgresCluster, PostgresLabError>?>(nil)

    /// The cluster of this test process, started on first use.
    public static func running() throws(PostgresLabError) -> PostgresCluster {
        let result = shared.withLock { shared -> Result<PostgresCluster, PostgresLabError> in
            if let shared { return shared }
            let started = Result { () throws(PostgresLabError) in try PostgresCluster() }
            shared = started
            if case .success = started { atexit { PostgresCluster.stopShared() } }
            return started
        }
        return try result.get()
    }

    private static func stopShared() {
        guard case let .success(cluster)? = shared.withLock({ $0 }) else { return }
        cluster.stop()
    }

    private init() throws(PostgresLabError) {
        guard let binaries = Self.binaries() else {
            throw PostgresLabError(
                "PostgreSQL's server programs are not installed (no /usr/lib/postgresql/*/bin/initdb); make deps installs the postgresql package"
            )
        }
        self.binaries = binaries
        Self.sweepOrphans(binaries)
        directory = URL(fileURLWithPath: "/tmp/\(Self.prefix)\(getpid())-\(UUID().uuidString.prefix(6))")
        port = Int.random(in: 20_000..<30_000)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try "\(getpid())".write(to: directory.appendingPathComponent("owner.pid"), atomically: true, encoding: .utf8)
            if getuid() == 0 { try Self.command(["/bin/chown", "-R", "postgres:postgres", directory.path]) }
            try asOwner([
                binaries.appendingPathComponent("initdb").path, "-D", data.path, "-U", "postgres", "--auth=trust",
                "--no-sync", "-E", "UTF8", "--locale=C"
            ])
            try asOwner([
                binaries.appendingPathComponent("pg_ctl").path, "-D", data.path, "-l", directory.appendingPathComponent("log").path,
                "-w", "-t", "30", "-o",
                "-p \(port) -k \(directory.path) -c listen_addresses=\(host) -c fsync=off -c max_connections=300", "start"
            ])
        } catch let error as PostgresLabError {
            stop()
            throw error
        } catch {
            stop()
            throw PostgresLabError("cannot start a PostgreSQL cluster in \(directory.path): \(error)")
        }
    }

    private var data: URL { directory.appendingPathComponent("data") }

    /// A new empty database; its postgres:// URL.
    public func makeDatabase() throws(PostgresLabError) -> (name: String, url: String) {
        let name = "duet_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try sql("CREATE DATABASE \(name)")
        return (name, "postgres://postgres@\(host):\(port)/\(name)?sslmode=disable")
    }

    /// Drops `name` even while connections to it remain.
    public func dropDatabase(_ name: String) {
        try? sql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs `statement` as the cluster's superuser; what psql printed.
    @discardableResult
    public func sql(_ statement: String, database: String = "postgres") throws(PostgresLabError) -> String {
        try Self.command([
            "/usr/bin/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", directory.path, "-p", "\(port)",
            "-U", "postgres", "-d", database, "-c", statement
        ])
    }

    private func stop() {
        _ = try? asOwner([binaries.appendingPathComponent("pg_ctl").path, "-D", data.path, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    private func asOwner(_ arguments: [String]) throws(PostgresLabError) {
        try Self.command(getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments)
    }

    /// The newest installed major version's server programs.
    private static func binaries() -> URL? {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return versions.compactMap(Int.init).sorted().reversed()
            .map { root.appendingPathComponent("\($0)/bin") }
            .first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("initdb").path) }
    }

    /// Clusters of test processes that are gone: stopped, their directories removed.
    private static func sweepOrphans(_ binaries: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for name in names where name.hasPrefix(prefix) {
            let folder = URL(fileURLWithPath: "/tmp/\(name)")
            guard let text = try? String(contentsOf: folder.appendingPathComponent("owner.pid"), encoding: .utf8),
                let pid = Int32(text), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            let stop = [
                binaries.appendingPathComponent("pg_ctl").path, "-D", folder.appendingPathComponent("data").path, "-m", "immediate", "stop"
            ]
            _ = try? command(getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + stop : stop)
            try? FileManager.default.removeItem(at: folder)
        }
    }

    /// Runs `arguments` (an absolute path first) and returns what it printed. Spawned and
    /// waited for by hand, its output through a file: pg_ctl leaves a server running whose
    /// descendants Foundation's `Process` waits on (seen here: `waitUntilExit` never returned).
    @discardableResult
    static func command(_ arguments: [String]) throws(PostgresLabError) -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("duet-pg-command-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { throw PostgresLabError("cannot run \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let printed = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        // Exited normally with status 0: the low seven bits (the signal) and the exit code are 0.
        guard status == 0 else { throw PostgresLabError("'\(arguments.joined(separator: " "))' failed (\(status)): \(printed)") }
        return printed
    }
}

/// The cluster could not be made, started or asked something; says what and why.
public struct PostgresLabError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
