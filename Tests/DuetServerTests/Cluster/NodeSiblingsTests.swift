import Testing

@testable import DuetServer

/// Which other nodes a node names to its devices (docs/deployment.md "When a device's node dies"),
/// out of the node table's rows, without a database.
@Suite("Nodes named to devices")
struct NodeSiblingsTests {
    private let me = NodeMesh.Advertisement(signaling: "203.0.113.7:7400", media: "203.0.113.7:7401", certificate: "AA")

    private func row(_ id: String, _ signaling: String, certificate: String = "AA", draining: Int64 = 0, rooms: Int64 = 0) -> SQLRow {
        SQLRow([
            ("id", .text(id)), ("signaling", .text(signaling)), ("certificate", .text(certificate)), ("draining", .integer(draining)),
            ("rooms", .integer(rooms)), ("legs", .integer(0))
        ])
    }

    @Test func onlyLiveNodesOfTheSameCertificateThatTakeDevicesLeastLoadedFirst() throws {
        let rows = [
            row("me", "203.0.113.7:7400"),
            row("stale", "203.0.113.7:7400"),  // this node's own address, from before a restart
            row("busy", "203.0.113.8:7400", rooms: 9),
            row("idle", "203.0.113.9:7400", rooms: 1),
            row("other", "203.0.113.10:7400", certificate: "BB"),
            row("drained", "203.0.113.11:7400", draining: 1),
            row("wild", "0.0.0.0:7400"),
            row("twin", "203.0.113.9:7400", rooms: 2)
        ]
        #expect(try NodeSiblings.named(in: rows, of: "me", advertising: me) == ["203.0.113.9:7400", "203.0.113.8:7400"])
    }
}
