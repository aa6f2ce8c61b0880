import Foundation
import Logging

/// Where each meeting recording is kept when nodes share one PostgreSQL directory
/// (docs/deployment.md "Recordings across nodes"). A recording is written by the node holding
/// its meeting, into that node's `--data`, under that node's recordings key; the index says
/// which node (by the signaling address it advertises: a node's id changes at every start, its
/// address does not) so an operator listing recordings on any node sees them all, and an
/// export asked of the wrong node names the right one. It holds nothing more: who met, and
/// the meeting's code, stay in the recording's sealed sidecar (docs/recordings.md).
///
/// A one-node server has no index: its data dir is the list.
public struct RecordingIndex: Sendable {
    /// What a node tells the index, as recordings start and finish.
    enum Change: Sendable {
        case started(id: String, at: Date)
        /// With its start too, so an end written first (a race) still says when it began.
        case ended(id: String, started: Date, at: Date)
    }

    /// One recording as the index knows it.
    public struct Entry: Sendable, Equatable {
        public let id: String
        /// The signaling address (HOST:PORT) of the node whose `--data` holds it.
        public let node: String
        public let started: Date
        /// Nil while recording, or when its node stopped before finishing it.
        public let ended: Date?
    }

    let store: PostgresDirectoryStore
    /// This node's advertised signaling address.
    let node: String
    let logger: Logger

    /// Writes one change; a started recording is inserted, a finished one gets its end (in
    /// either order, as the two may race). A failure is logged: the recording itself is kept
    /// whatever the index says.
    func record(_ change: Change) async {
        let (id, started, ended): (String, Date, Date?) =
            switch change {
            case let .started(id, at): (id, at, nil)
            case let .ended(id, started, at): (id, started, at)
            }
        do {
            try await store.write { [node] tx in
                try await tx.execute(
                    """
                    INSERT INTO recording (id, node, startedAt, endedAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET endedAt = COALESCE(excluded.endedAt, recording.endedAt)
                    """, [id, node, Self.milliseconds(started), ended.map(Self.milliseconds)])
            }
        } catch {
            logger.warning(
                "could not index a recording", metadata: ["recording": "\(id)", "error": "\(PostgresDirectoryStore.describe(error))"])
        }
    }

    /// Every recording of every node, oldest first.
    static func entries(in store: PostgresDirectoryStore) async throws -> [Entry] {
        try await store.read { tx in
            try await tx.rows("SELECT id, node, startedAt, endedAt FROM recording ORDER BY startedAt, id", []).map { row in
                Entry(
                    id: try row.text("id"), node: try row.text("node"), started: date(try row.integer("startedAt")),
                    ended: try row.optionalInteger("endedAt").map(date))
            }
        }
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    private static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
