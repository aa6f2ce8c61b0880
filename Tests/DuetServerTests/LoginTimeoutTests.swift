import DuetClient
import DuetServer
import DuetWire
import Testing

/// A connection that never logs in is closed, so idle TLS connections cannot pile up; one
/// that logged in stays.
@Suite("Login timeout")
struct LoginTimeoutTests {
    @Test func aConnectionThatNeverAuthenticatesIsToldAndClosed() async throws {
        let server = try await TestServer.start(loginTimeout: .milliseconds(500))
        let idle = try await RawClient(server.address)
        guard case .challenge? = try await idle.receive()?.message else {
            Issue.record("no challenge")
            return
        }
        #expect(try await idle.receiveError() == .notAuthenticated)
        #expect(try await idle.isClosedByServer())

        // A device that logs in is not affected by the deadline.
        let device = TestDevice()
        let (connection, _) = try await device.connect(to: server)
        try await device.register(connection, as: "+15553301")
        try await Task.sleep(for: .seconds(1))
        try await connection.ping()
        await connection.close()
        try await server.stop()
    }
}
