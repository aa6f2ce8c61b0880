import Logging
import Synchronization

/// Whether the data directory takes writes right now. A full disk refuses every write until
/// someone frees space, so it is logged once when the episode starts (and again only if the
/// fault changes), not once per refused request; the first write that succeeds afterwards
/// ends the episode with one line saying how many were refused. Shared by every connection.
final class StorageHealth: Sendable {
    private struct State {
        var failure: StorageFailure?
        var refused = 0
    }

    private let state = Mutex(State())
    private let directory: String
    private let logger: Logger

    init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// The fault of the episode under way, if any.
    var failure: StorageFailure? { state.withLock { $0.failure } }

    /// A write was refused by the storage; `detail` is the underlying error, for the log.
    func refused(_ failure: StorageFailure, detail: String) {
        let changed = state.withLock { state in
            defer {
                state.failure = failure
                state.refused += 1
            }
            return state.failure != failure
        }
        if changed { logger.error("\(failure.logMessage(directory: directory, detail: detail))") }
    }

    /// A write committed: if an episode was under way, it is over.
    func wrote() {
        let ended: (StorageFailure, Int)? = state.withLock { state in
            guard let failure = state.failure else { return nil }
            defer { state = State() }
            return (failure, state.refused)
        }
        guard let (failure, refused) = ended else { return }
        logger.notice(
            "writes succeed again in \(directory); while \(failure.summary), \(refused) request(s) that needed a write were refused")
    }
}
