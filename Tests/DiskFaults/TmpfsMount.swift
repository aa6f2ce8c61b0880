import Foundation

/// A small tmpfs of its own, mounted for one test, to make real disk faults: fill it until the
/// kernel says ENOSPC, free it again, or remount it read-only. Root ignores file modes, so a
/// read-only mount is the honest way to make a directory unwritable; a tmpfs's `size=` limit
/// holds for root too.
///
/// Mounting needs root or CAP_SYS_ADMIN. Tests that use this are gated with
/// `.enabled(if: TmpfsMount.isAvailable, …)` so they are reported as skipped, never passed,
/// where it is refused. The mount is removed on every path: `unmount()`, or `deinit` (lazily,
/// so a server that still has files open on it cannot keep it mounted).
public final class TmpfsMount {
    /// nil when this process may mount a tmpfs; otherwise why it may not (checked once, by mounting one).
    public static let unavailableReason: String? = {
        do {
            let probe = try TmpfsMount(kilobytes: 64)
            probe.unmount()
            return nil
        } catch {
            return "\(error)"
        }
    }()

    public static var isAvailable: Bool { unavailableReason == nil }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The mount point (an empty directory under the temporary directory).
    public let url: URL
    private var filler: URL { url.appendingPathComponent(".filler") }
    private var mounted = false

    public init(kilobytes: Int) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("duet-tmpfs-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        guard mount("tmpfs", url.path, "tmpfs", 0, "size=\(kilobytes)k,mode=0755") == 0 else {
            let reason = String(cString: strerror(errno))
            rmdir(url.path)
            throw Failure(description: "cannot mount a tmpfs at \(url.path): \(reason) (mounting needs root or CAP_SYS_ADMIN)")
        }
        mounted = true
    }

    deinit { unmount() }

    /// Writes a filler file until the kernel refuses with ENOSPC: afterwards no write that
    /// needs a new page succeeds on this mount.
    public func fill() throws {
        let fd = open(filler.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(filler.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let block = [UInt8](repeating: 0xA5, count: 64 * 1024)
        while true {
            let written = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                guard errno == ENOSPC else { throw Failure(description: "filling \(url.path): \(String(cString: strerror(errno)))") }
                return
            }
        }
    }

    /// Deletes the filler: the space is back at once.
    public func free() {
        unlink(filler.path)
    }

    /// Bytes a new file could still take.
    public var availableBytes: Int {
        var stats = statvfs()
        guard statvfs(url.path, &stats) == 0 else { return 0 }
        return Int(stats.f_bavail) * Int(stats.f_frsize)
    }

    /// Remounts read-only or read-write. Linux refuses a read-only remount (EBUSY) while a
    /// file is open for writing on it, so make it read-only before a server opens anything.
    public func remount(readOnly: Bool) throws {
        let flags = UInt(MS_REMOUNT) | (readOnly ? UInt(MS_RDONLY) : 0)
        guard mount(nil, url.path, nil, flags, nil) == 0 else {
            throw Failure(
                description: "cannot remount \(url.path) \(readOnly ? "read-only" : "read-write"): \(String(cString: strerror(errno)))")
        }
    }

    /// Detaches the mount (lazily: open files keep it alive unseen until closed) and removes
    /// the mount point. Safe to call twice.
    public func unmount() {
        guard mounted else { return }
        mounted = false
        umount2(url.path, Int32(MNT_DETACH))
        rmdir(url.path)
    }
}
