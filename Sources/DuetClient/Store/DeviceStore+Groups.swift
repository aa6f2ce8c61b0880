import DuetWire
import Foundation
import GRDB

extension DeviceStore {
    /// Pins a group's founding the first time this device sees the group, and says whether
    /// `founding` is the pinned one. A group's founding never changes: a different one is the
    /// server presenting a group rebuilt under a root of its own.
    public func pinGroupFounding(_ founding: Signaling.GroupFounding, groupID: String) throws(DeviceStoreError) -> Bool {
        try write { db in
            let key = Data(founding.founderKey.bytes), nonce = Data(founding.nonce.bytes)
            if let row = try Row.fetchOne(
                db, sql: "SELECT founder, founderKey, nonce FROM groupFounding WHERE groupId = ?",
                arguments: [groupID])
            {
                return row["founder"] == founding.founder && row["founderKey"] == key && row["nonce"] == nonce
            }
            try db.execute(
                sql: "INSERT INTO groupFounding (groupId, founder, founderKey, nonce) VALUES (?, ?, ?, ?)",
                arguments: [groupID, founding.founder, key, nonce])
            return true
        }
    }
}
