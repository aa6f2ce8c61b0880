import Foundation
import GRDB

/// Why the server could not write to its data directory. SQLite result codes and errno values
/// become one of these here and nowhere else, so the same fault reads the same everywhere: in
/// a signaling reply a user can act on, in the log line an operator can act on, and in the
/// error `duet server` exits with.
enum StorageFailure: Error, Equatable, Sendable {
    /// No space left on the data directory's file system (ENOSPC, EDQUOT, SQLITE_FULL).
    case full
    /// The file system is read-only, or the files are not the server user's to write (EROFS,
    /// EACCES, EPERM, SQLITE_READONLY).
    case readOnly
    /// Any other I/O failure (EIO, SQLITE_IOERR, a database file that is not one…).
    case failing

    /// The storage fault behind a SQLite error, or nil when it is something else (a
    /// constraint, a busy timeout, a bug): those are not the disk's fault and are not reported as such.
    init?(database error: any Error) {
        guard let error = error as? DatabaseError else { return nil }
        switch error.resultCode {
        case .SQLITE_FULL: self = .full
        case .SQLITE_READONLY, .SQLITE_PERM: self = .readOnly
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_PROTOCOL, .SQLITE_NOLFS: self = .failing
        default: return nil
        }
    }

    /// What a failed system call's errno means for the data directory.
    init(errno code: Int32) {
        switch code {
        case ENOSPC, EDQUOT: self = .full
        case EROFS, EACCES, EPERM: self = .readOnly
        default: self = .failing
        }
    }

    /// The fault in a few words a user understands.
    var summary: String {
        switch self {
        case .full: "the server's disk is full"
        case .readOnly: "the server's storage is read-only"
        case .failing: "the server's storage is failing"
        }
    }

    /// The reply to a request that needed a write: the fault, that nothing changed, and what to do.
    var replyMessage: String {
        "\(summary), so it could not save this and nothing was changed; try again later, and tell the server's operator if it goes on"
    }

    /// What an operator can do about it, for errors that stop `duet server` before it serves.
    func advice(directory: String) -> String {
        switch self {
        case .full: "free space on that file system (df -h \(directory)), or choose another directory with --data DIR"
        case .readOnly:
            "make it writable for the server's user (remount it read-write, or fix its owner and mode), or choose another directory with --data DIR"
        case .failing: "check the disk and its file system (dmesg), or choose another directory with --data DIR"
        }
    }

    /// The operator's log line: what is refused, and what to do about it. `detail` is the
    /// underlying error (never a secret: SQLite and errno wording).
    func logMessage(directory: String, detail: String) -> String {
        let refused = "requests that change data are refused (what is stored stays intact) until it is fixed; no restart needed"
        return switch self {
        case .full:
            "disk full: no space left on the file system holding \(directory) (\(detail)); \(refused) — free space there (df -h \(directory))"
        case .readOnly:
            "data directory not writable: \(directory) is read-only or not the server user's (\(detail)); \(refused) — make it writable again"
        case .failing: "storage error writing in \(directory) (\(detail)); \(refused) — check the disk (dmesg) and the file system"
        }
    }
}
