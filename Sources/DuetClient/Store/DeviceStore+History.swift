import Foundation
import GRDB

/// The call history (docs/history.md): one row per call id, written as the call goes —
/// begun, connected, ended — so a device that stops mid-call still shows it (without an end).
extension DeviceStore {
    /// Rows kept at most; the oldest go first.
    public static let historyLimit = 1_000

    /// Records a call's beginning; a call already recorded (its kind and id) is left as it is
    /// (and false returned). Ids are per kind: a peer picks a call's id, and one kind's id
    /// cannot touch another kind's record.
    @discardableResult
    public func beginCall(_ record: CallRecord) throws(DeviceStoreError) -> Bool {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO callHistory (callId, kind, direction, peer, peerName, startedAt, connectedAt, endedAt, path, verified, outcome)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind, callId) DO NOTHING
                    """,
                arguments: [
                    record.callID, record.kind.rawValue, record.direction.rawValue, record.peer, record.peerName,
                    record.startedAt.timeIntervalSince1970, record.connectedAt?.timeIntervalSince1970,
                    record.endedAt?.timeIntervalSince1970, record.path, record.verified, record.outcome?.rawValue
                ])
            let inserted = db.changesCount > 0
            try db.execute(
                sql: "DELETE FROM callHistory WHERE rowid NOT IN (SELECT rowid FROM callHistory ORDER BY startedAt DESC LIMIT ?)",
                arguments: [Self.historyLimit])
            return inserted
        }
    }

    /// The call connected over `path` (the first time only: a path change keeps the start).
    public func callConnected(
        _ kind: CallRecord.Kind, _ callID: String, path: String, verified: Bool, at date: Date = Date()
    ) throws(DeviceStoreError) {
        try write { db in
            try db.execute(
                sql: "UPDATE callHistory SET connectedAt = COALESCE(connectedAt, ?), path = ?, verified = ? WHERE kind = ? AND callId = ?",
                arguments: [date.timeIntervalSince1970, path, verified, kind.rawValue, callID])
        }
    }

    /// The call ended: `answered` if it connected, else `outcome` (once: a later report changes nothing).
    public func callEnded(
        _ kind: CallRecord.Kind, _ callID: String, ifNeverConnected outcome: CallRecord.Outcome, at date: Date = Date()
    ) throws(DeviceStoreError) {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE callHistory SET endedAt = ?, outcome = CASE WHEN connectedAt IS NULL THEN ? ELSE ? END
                    WHERE kind = ? AND callId = ? AND outcome IS NULL
                    """,
                arguments: [date.timeIntervalSince1970, outcome.rawValue, CallRecord.Outcome.answered.rawValue, kind.rawValue, callID])
        }
    }

    /// The newest `limit` records, newest first.
    public func history(limit: Int = 50) throws(DeviceStoreError) -> [CallRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM callHistory ORDER BY startedAt DESC, rowid DESC LIMIT ?", arguments: [limit])
                .compactMap(Self.record)
        }
    }

    private static func record(_ row: Row) -> CallRecord? {
        guard let kind = CallRecord.Kind(rawValue: row["kind"]), let direction = CallRecord.Direction(rawValue: row["direction"]) else {
            return nil
        }
        let date = { (column: String) -> Date? in (row[column] as Double?).map(Date.init(timeIntervalSince1970:)) }
        return CallRecord(
            kind: kind, direction: direction, peer: row["peer"], peerName: row["peerName"], callID: row["callId"],
            startedAt: date("startedAt") ?? Date(timeIntervalSince1970: 0), connectedAt: date("connectedAt"), endedAt: date("endedAt"),
            path: row["path"], verified: row["verified"] ?? false,
            outcome: (row["outcome"] as String?).flatMap(CallRecord.Outcome.init(rawValue:)))
    }
}
