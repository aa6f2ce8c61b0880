import Foundation

/// Why a recording could not be made, listed or exported. Each message says what happened
/// and what to do, because the operator reading it has only the CLI and the data dir.
public enum RecordingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A recording id that cannot be a file name (1–64 of A–Z a–z 0–9 - _).
    case invalidID(String)
    /// No recording with this id in the data dir.
    case notFound(id: String, directory: String)
    /// A recording with this id already exists; ids are never reused.
    case alreadyExists(id: String)
    /// The data dir has no `recordings.key`, so nothing in it can be decrypted.
    case noMasterKey(path: String)
    /// `recordings.key` exists but is unreadable or the wrong size.
    case badMasterKey(path: String, reason: String)
    /// The recording was made under another master key than the data dir's.
    case wrongMasterKey(id: String)
    /// Not a Duet recording, or made by a newer Duet.
    case notARecording(path: String)
    case unsupportedVersion(UInt8)
    /// The file ends before its first complete chunk: nothing in it can be authenticated. (A
    /// file that ends later, before its FINAL chunk, exports as incomplete instead.)
    case truncated(id: String)
    /// Bytes do not authenticate at `offset`: the file was altered or damaged there.
    case tampered(id: String, offset: Int)
    /// A file operation failed.
    case io(operation: String, path: String, reason: String)
    /// No space left to write `path` (ENOSPC, EDQUOT). A recording cut short by it ends on its
    /// last complete chunk and exports up to there, marked incomplete.
    case diskFull(path: String)
    /// The codec failed while mixing; `reason` is libopus's wording.
    case codec(String)
    /// `tick`, `receive` or `finish` after `finish`.
    case finished(id: String)

    public var description: String {
        switch self {
        case let .invalidID(id):
            "'\(id)' is not a recording id: use 1 to 64 letters, digits, '-' or '_'"
        case let .notFound(id, directory):
            "no recording '\(id)' in \(directory); run `duet server recordings list --data DIR` to see the ids"
        case let .alreadyExists(id):
            "a recording '\(id)' already exists; give each recording a new id"
        case let .noMasterKey(path):
            "no recordings key at \(path): this data dir has never recorded, or the key was moved; recordings cannot be decrypted without it"
        case let .badMasterKey(path, reason):
            "the recordings key \(path) is unusable (\(reason)); restore it from a backup — recordings made under it cannot be decrypted otherwise"
        case let .wrongMasterKey(id):
            "recording '\(id)' was encrypted under a different recordings key than this data dir's recordings.key; export it with --data pointing at the server that made it"
        case let .notARecording(path):
            "\(path) is not a Duet recording (its first bytes are not the Duet recording magic)"
        case let .unsupportedVersion(version):
            "recording format version \(version) is newer than this duet understands; upgrade duet"
        case let .truncated(id):
            "the recording is truncated: it ends before its first complete chunk (recording '\(id)'); there is nothing to export"
        case let .tampered(id, offset):
            "the recording was tampered with or is corrupt at byte \(offset) (recording '\(id)'); nothing was exported"
        case let .io(operation, path, reason):
            "cannot \(operation) \(path): \(reason)"
        case let .diskFull(path):
            "no space left to write \(path); free space on its file system (df -h). A recording cut short by this exports up to its last complete chunk, marked incomplete"
        case let .codec(reason):
            "recording codec error: \(reason)"
        case let .finished(id):
            "recording '\(id)' is already finished; start a new recorder"
        }
    }
}

extension RecordingError {
    /// The one place a failed system call on a recording's files becomes a `RecordingError`.
    static func writing(_ path: String, operation: String, errno code: Int32) -> RecordingError {
        StorageFailure(errno: code) == .full
            ? .diskFull(path: path) : .io(operation: operation, path: path, reason: String(cString: strerror(code)))
    }
}
