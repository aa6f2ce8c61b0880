import DiskFaults
import DuetWire
import Foundation
import Testing

@testable import DuetServer

/// `duet server` on a data dir it cannot write does not start: one line names the path, what
/// failed and what to do, before anything in the directory is opened or changed.
@Suite("Unwritable data directory at start", .serialized)
struct UnwritableDataDirectoryTests {
    static func startupError(_ directory: String) async -> String? {
        do {
            let server = try await TestServer.start(dataDirectory: directory)
            try? await server.stop(keepingData: true)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// A data dir a server has run on and stopped, on `disk`, with its files' bytes.
    static func usedDataDirectory(on disk: TmpfsMount) async throws -> (URL, before: [String: Data]) {
        let data = disk.url.appendingPathComponent("server")
        try await TestServer.start(dataDirectory: data.path).stop(keepingData: true)
        let before = try contents(data)
        #expect(before.keys.contains(SQLiteDirectoryStore.fileName))
        return (data, before)
    }

    /// Every file in `directory` with its bytes: what "left as it was" is checked against.
    static func contents(_ directory: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            result[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return result
    }

    @Test func aPathThroughAFileIsRefused() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-notdir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let file = home.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        let error = await Self.startupError(file.appendingPathComponent("server").path)
        #expect(
            error == "cannot use \(file.path)/server as the data directory: \(file.path) is a file, not a directory; "
                + "move that file away, or choose another directory with --data DIR")
    }

    @Test(
        .enabled(
            if: TmpfsMount.isAvailable, "mounts a tmpfs to make read-only: needs root or CAP_SYS_ADMIN; skipped where mount(2) is refused"))
    func aReadOnlyDataDirectoryIsRefusedAndLeftAsItWas() async throws {
        let disk = try TmpfsMount(kilobytes: 1024)
        defer { disk.unmount() }
        let (data, before) = try await Self.usedDataDirectory(on: disk)

        try disk.remount(readOnly: true)
        #expect(
            await Self.startupError(data.path) == "cannot write in the data directory \(data.path): Read-only file system; "
                + "make it writable for the server's user (remount it read-write, or fix its owner and mode), or choose another directory with --data DIR"
        )
        let missing = data.appendingPathComponent("new").path
        #expect(
            await Self.startupError(missing) == "cannot create the data directory \(missing): Read-only file system; "
                + "make it writable for the server's user (remount it read-write, or fix its owner and mode), or choose another directory with --data DIR"
        )
        try disk.remount(readOnly: false)
        #expect(try Self.contents(data) == before)
        #expect(await Self.startupError(data.path) == nil, "writable again: it starts")
    }

    @Test(.enabled(if: TmpfsMount.isAvailable, "mounts a tmpfs to fill: needs root or CAP_SYS_ADMIN; skipped where mount(2) is refused"))
    func aFullDiskAtStartIsRefusedAndLeftAsItWas() async throws {
        let disk = try TmpfsMount(kilobytes: 1024)
        defer { disk.unmount() }
        let (data, before) = try await Self.usedDataDirectory(on: disk)

        try disk.fill()
        #expect(
            await Self.startupError(data.path) == "cannot write in the data directory \(data.path): No space left on device; "
                + "free space on that file system (df -h \(data.path)), or choose another directory with --data DIR")
        #expect(try Self.contents(data) == before)
        disk.free()
        #expect(await Self.startupError(data.path) == nil)
    }
}
