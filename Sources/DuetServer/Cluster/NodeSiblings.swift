import DuetWire
import Synchronization

/// The other nodes a node names to its devices, for them to reconnect to when it goes away
/// (docs/deployment.md "When a device's node dies"): the live nodes serving the same
/// certificate and taking new devices (not draining), least loaded first. Worked out from the
/// node table's rows at start and at each heartbeat, so a login never waits for the database.
final class NodeSiblings: Sendable {
    /// How many other nodes a device is told of at most.
    static let maximum = 8
    /// The node table's columns `named(in:of:advertising:)` reads.
    static let columns = "id, signaling, certificate, draining, rooms, legs"

    private let known = Mutex<[String]>([])

    /// As of the last update.
    var current: [String] { known.withLock { $0 } }

    /// Takes the list out of `rows`; the new list if it changed.
    func update(from rows: [SQLRow], of id: String, advertising advertisement: NodeMesh.Advertisement) throws -> [String]? {
        let named = try Self.named(in: rows, of: id, advertising: advertisement)
        return known.withLock { known in
            defer { known = named }
            return known == named ? nil : named
        }
    }

    /// The same certificate, not draining, not this node (nor a stale row at this node's own
    /// address), dialable (no wildcard host), each address once, least loaded first.
    static func named(in rows: [SQLRow], of id: String, advertising advertisement: NodeMesh.Advertisement) throws -> [String] {
        var nodes: [(signaling: String, load: (Int64, Int64))] = []
        for row in rows {
            let signaling = try row.text("signaling")
            guard try row.text("id") != id, signaling != advertisement.signaling, try row.text("certificate") == advertisement.certificate,
                try row.integer("draining") == 0, !nodes.contains(where: { $0.signaling == signaling }),
                let address = try? HostPort(parsing: signaling), TransportAddress(literal: address.host, port: 0)?.isUnspecified != true
            else { continue }
            nodes.append((signaling, (try row.integer("rooms"), try row.integer("legs"))))
        }
        return nodes.sorted { $0.load < $1.load }.prefix(maximum).map(\.signaling)
    }
}
