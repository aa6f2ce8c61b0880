import ArgumentParser
import DuetClient
import DuetWire

/// `--server HOST:PORT` and `--accept-certificate FINGERPRINT`, for commands that talk to a server.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The duet server (remembered by the profile after 'register').", valueName: "HOST:PORT"))
    var server: String?

    @Option(
        help: ArgumentHelp(
            """
            Pin this SHA-256 certificate fingerprint instead of the stored one. Use it only after the \
            server's operator confirmed the fingerprint `duet server` prints.
            """, valueName: "FINGERPRINT"))
    var acceptCertificate: String?

    func validate() throws {
        if let server {
            do { _ = try HostPort(parsing: server) } catch { throw ValidationError("--server: \(error)") }
        }
    }

    var hostPort: HostPort? { server.flatMap { try? HostPort(parsing: $0) } }

    /// Opens the profile's store and connects it to the server.
    func session(_ profile: ProfileOptions) async throws -> DeviceSession {
        try await session(profile.openStore(create: false))
    }

    /// Connects a store already open (a command that reads it after the session too).
    func session(_ store: DeviceStore) async throws -> DeviceSession {
        try await DeviceSession.open(store: store, server: hostPort, acceptFingerprint: acceptCertificate)
    }
}
