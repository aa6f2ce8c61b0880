import DiskFaults
import Foundation
import Testing

/// The real binary on a data dir it cannot write: exits 1 at once with one line on stderr
/// naming the path, what failed and what to do — not a library's error dump, not a banner.
@Suite("duet server on an unwritable data directory (binary)", .serialized)
struct ServerStartupFailureTests {
    static func start(_ data: String) throws -> (result: DuetCommandLine.Result, seconds: Double) {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-startup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let started = Date()
        let result = try DuetCommandLine(home: home).run(["server", "--listen", "127.0.0.1:0", "--media", "127.0.0.1:0", "--data", data])
        return (result, Date().timeIntervalSince(started))
    }

    static func expectOneLine(
        _ run: (result: DuetCommandLine.Result, seconds: Double), _ line: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(run.result.status == 1, sourceLocation: sourceLocation)
        #expect(run.result.stderr == "Error: \(line)\n", sourceLocation: sourceLocation)
        #expect(run.result.stdout.isEmpty, "no banner for a server that does not run", sourceLocation: sourceLocation)
        #expect(run.seconds < 10, "\(run.seconds) s: it should fail at once", sourceLocation: sourceLocation)
    }

    @Test func aPathThroughAFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("duet-file-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        Self.expectOneLine(
            try Self.start(file.path + "/server"),
            "cannot use \(file.path)/server as the data directory: \(file.path) is a file, not a directory; "
                + "move that file away, or choose another directory with --data DIR")
    }

    @Test(
        .enabled(
            if: TmpfsMount.isAvailable, "mounts a tmpfs to make read-only: needs root or CAP_SYS_ADMIN; skipped where mount(2) is refused"))
    func aReadOnlyMount() throws {
        let disk = try TmpfsMount(kilobytes: 256)
        defer { disk.unmount() }
        try FileManager.default.createDirectory(at: disk.url.appendingPathComponent("server"), withIntermediateDirectories: true)
        try disk.remount(readOnly: true)
        let data = disk.url.appendingPathComponent("server").path
        Self.expectOneLine(
            try Self.start(data),
            "cannot write in the data directory \(data): Read-only file system; make it writable for the server's user "
                + "(remount it read-write, or fix its owner and mode), or choose another directory with --data DIR")
    }
}
