import DuetClient
import DuetServer
import DuetWire
import Testing

/// Each signaling connection holds a TLS session and a reply queue, so their number is capped,
/// in all and per address; the connections already open keep working.
@Suite("Signaling connection caps")
struct ConnectionCapTests {
    @Test func theConnectionPastOneAddressCapIsClosedWhileTheOthersWork() async throws {
        var limits = SignalingLimits()
        limits.maximumConnectionsPerAddress = 2
        limits.limitsLoopback = true  // the test's connections all come from loopback
        let server = try await TestServer.start(limits: limits)
        let (first, _) = try await TestDevice().connect(to: server)
        let (second, _) = try await TestDevice().connect(to: server)

        #expect(try await Self.isRefused(server), "a third connection from one address was served")
        try await first.ping()
        try await second.ping()

        // A slot frees when a connection ends.
        await second.close()
        #expect(await eventually(timeout: .seconds(10)) { (try? await Self.isRefused(server)) == false })
        await first.close()
        try await server.stop()
    }

    @Test func theConnectionPastTheTotalCapIsClosedEvenFromExemptLoopback() async throws {
        var limits = SignalingLimits()
        limits.maximumConnections = 3
        limits.maximumConnectionsPerAddress = 1  // loopback is exempt by default: three fit
        let server = try await TestServer.start(limits: limits)
        var open: [ServerConnection] = []
        for _ in 0..<3 { open.append(try await TestDevice().connect(to: server).0) }

        #expect(try await Self.isRefused(server), "a connection past the total cap was served")
        for connection in open { try await connection.ping() }
        for connection in open { await connection.close() }
        try await server.stop()
    }

    /// True if the server closes a new connection without sending it the login challenge.
    static func isRefused(_ server: TestServer) async throws -> Bool {
        guard let client = try? await RawClient(server.address) else { return true }  // closed during connect
        defer { client.close() }
        guard let frame = try await client.receive() else { return true }
        if case .challenge = frame.message { return false }
        return true
    }
}
