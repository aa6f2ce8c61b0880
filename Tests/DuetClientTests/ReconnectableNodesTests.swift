import DuetWire
import Testing

@testable import DuetClient

/// Which of the nodes a login names a device will try when its node goes away
/// (docs/deployment.md "When a device's node dies").
@Suite("Nodes a device reconnects to")
struct ReconnectableNodesTests {
    private func hosts(_ texts: [String]) throws -> [HostPort] { try texts.map { try HostPort(parsing: $0) } }

    @Test func aServerAwayFromTheLoopbackCannotSendDevicesToTheirOwnMachine() throws {
        let named = try hosts(["203.0.113.8:7400", "127.0.0.1:22", "localhost:5432", "[::1]:7400", "node3.example.net:7400"])
        let kept = ServerConnection.reconnectable(named, server: try HostPort(parsing: "203.0.113.7:7400"))
        #expect(kept == (try hosts(["203.0.113.8:7400", "node3.example.net:7400"])))
    }

    @Test func nodesOnTheLoopbackAreKeptForAServerOnTheLoopback() throws {
        let named = try hosts(["127.0.0.1:7500", "127.0.0.1:7600"])
        #expect(ServerConnection.reconnectable(named, server: try HostPort(parsing: "localhost:7400")) == named)
    }

    @Test func eachNodeIsTriedOnceAndAtMostEight() throws {
        let named = try hosts(["Node.example.net:7400", "node.example.net:7400"] + (1...20).map { "198.51.100.\($0):7400" })
        let kept = ServerConnection.reconnectable(named, server: try HostPort(parsing: "203.0.113.7:7400"))
        #expect(kept.count == SignalingChannel.maximumNodes)
        #expect(kept.filter { $0.host.lowercased() == "node.example.net" }.count == 1)
    }
}
