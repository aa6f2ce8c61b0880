import Logging

/// Where each authenticated key (and its number) is connected (docs/deployment.md "Nodes"): the
/// `presence` table, one row per key and node.
struct PresenceTable: Sendable {
    let store: PostgresDirectoryStore
    /// This node.
    let node: String
    let logger: Logger

    /// `key` (as `number`, once it has one) is connected to this node. `replacing: false` keeps
    /// a number the row already has (another connection of the key is bound to it).
    func publish(key: [UInt8], number: String?, replacing: Bool) async {
        let id = node
        let update = replacing ? "excluded.number" : "COALESCE(excluded.number, presence.number)"
        do {
            try await store.write { tx in
                try await tx.execute(
                    """
                    INSERT INTO presence (identityKey, number, node) VALUES (?, ?, ?)
                    ON CONFLICT (identityKey, node) DO UPDATE SET number = \(update)
                    """, [key, number, id])
            }
        } catch {
            logger.warning("could not publish presence", metadata: ["error": "\(PostgresDirectoryStore.describe(error))"])
        }
    }

    /// `key` has no connection to this node any more.
    func withdraw(key: [UInt8]) async {
        let id = node
        do {
            try await store.write { tx in try await tx.execute("DELETE FROM presence WHERE identityKey = ? AND node = ?", [key, id]) }
        } catch {
            logger.warning("could not withdraw presence", metadata: ["error": "\(PostgresDirectoryStore.describe(error))"])
        }
    }

    /// Whether `key` is connected to another node.
    func isConnectedElsewhere(key: [UInt8]) async -> Bool {
        let id = node
        return
            (try? await store.read { tx in
                try await tx.exists("SELECT 1 FROM presence WHERE identityKey = ? AND node != ?", [key, id])
            }) ?? false
    }

    /// Whether `number` is connected to another node.
    func isOnlineElsewhere(_ number: String) async -> Bool {
        let id = node
        return
            (try? await store.read { tx in
                try await tx.exists("SELECT 1 FROM presence WHERE number = ? AND node != ?", [number, id])
            }) ?? false
    }
}
