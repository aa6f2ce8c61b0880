import Logging

/// Which node holds which room (docs/deployment.md "Rooms"): the `room` table, a group call's
/// id or a meeting's `meeting:CODE`, each claimed by one node; and the nodes' drain flags.
struct RoomClaims: Sendable {
    let store: PostgresDirectoryStore
    /// This node.
    let node: String
    let logger: Logger

    /// Marks the node that devices reach at `signaling` as draining: it is given no new rooms
    /// and its open ones finish there. Its open rooms, or nil when no live node is there.
    static func drain(signaling: String, in store: PostgresDirectoryStore) async throws -> Int? {
        try await store.write { tx in
            let row = try await tx.row(
                "UPDATE node SET draining = 1 WHERE signaling = ? AND seenAt > \(NodeMesh.now) - ? RETURNING rooms",
                [signaling, NodeMesh.deadAfterMilliseconds])
            return try row.map { Int(try $0.integer("rooms")) }
        }
    }

    /// Every live node: where devices reach it, its rooms, whether it drains.
    static func nodes(in store: PostgresDirectoryStore) async throws -> [(signaling: String, rooms: Int, draining: Bool)] {
        try await store.read { tx in
            try await tx.rows(
                "SELECT signaling, rooms, draining FROM node WHERE seenAt > \(NodeMesh.now) - ? ORDER BY signaling",
                [NodeMesh.deadAfterMilliseconds]
            )
            .map { (try $0.text("signaling"), Int(try $0.integer("rooms")), try $0.integer("draining") != 0) }
        }
    }

    /// The node holding room `id`: the one that holds it already, or the least loaded live
    /// node, which claims it now — a draining one only when every node drains (better served
    /// there than refused). Nil when the database cannot say.
    func claim(room id: String) async -> String? {
        try? await store.write { tx in
            try await tx.execute(
                """
                INSERT INTO room (id, node, claimedAt)
                SELECT ?, id, \(NodeMesh.now) FROM node WHERE seenAt > \(NodeMesh.now) - ? ORDER BY draining, rooms, random() LIMIT 1
                ON CONFLICT (id) DO NOTHING
                """, [id, NodeMesh.deadAfterMilliseconds])
            return try await tx.row("SELECT node FROM room WHERE id = ?", [id])?.text("node")
        }
    }

    /// The least loaded live node (draining ones last, as for `claim`), for a room whose id is
    /// made there (a meeting's code); nil when the database cannot say.
    func leastLoaded() async -> String? {
        try? await store.read { tx in
            try await tx.row(
                "SELECT id FROM node WHERE seenAt > \(NodeMesh.now) - ? ORDER BY draining, rooms, random() LIMIT 1",
                [NodeMesh.deadAfterMilliseconds])?.text("id")
        }
    }

    /// Claims room `id` for this node (a meeting made here).
    func claimHere(room id: String) async {
        let node = self.node
        _ = try? await store.write { tx in
            try await tx.execute(
                "INSERT INTO room (id, node, claimedAt) VALUES (?, ?, \(NodeMesh.now)) ON CONFLICT (id) DO NOTHING", [id, node])
        }
    }

    /// The node holding room `id`, if one does.
    func holder(of room: String) async -> String? {
        try? await store.read { tx in try await tx.row("SELECT node FROM room WHERE id = ?", [room])?.text("node") }
    }

    /// Claims this node's open rooms again after it was reaped (the claims went with it); a
    /// room another node claimed meanwhile is now open twice, which is logged.
    func reclaim(_ rooms: [String]) async {
        let id = node
        for room in rooms {
            let holder = try? await store.write { tx in
                try await tx.execute(
                    "INSERT INTO room (id, node, claimedAt) VALUES (?, ?, \(NodeMesh.now)) ON CONFLICT (id) DO NOTHING", [room, id])
                return try await tx.row("SELECT node FROM room WHERE id = ?", [room])?.text("node")
            }
            if let holder, holder != id {
                logger.warning("a room open here was placed on another node while this one stalled", metadata: ["call": "\(room)"])
            }
        }
    }

    /// Room `id` closed on this node.
    func release(room id: String) async {
        let node = self.node
        _ = try? await store.write { tx in try await tx.execute("DELETE FROM room WHERE id = ? AND node = ?", [id, node]) }
    }

    /// The nodes other than this one that hold rooms now.
    func nodesHoldingRooms() async -> [String] {
        let id = node
        return
            (try? await store.read { tx in
                try await tx.rows("SELECT DISTINCT node FROM room WHERE node != ?", [id]).map { try $0.text("node") }
            }) ?? []
    }
}
