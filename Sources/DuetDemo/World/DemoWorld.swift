import DuetServer
import DuetWire
import Foundation
import Logging

/// The world a demo story runs in: a real `duet server` on loopback with its data in a fresh
/// temporary directory, watched by a `MediaWitness`, and the devices' profiles beside it.
/// Everything is removed when the story ends.
final class DemoWorld: Sendable {
    let home: URL
    let server: ServerApplication
    let wire: WireLog
    private let serving: Task<Void, any Error>

    var serverData: URL { home.appendingPathComponent("server", isDirectory: true) }
    var profiles: URL { home.appendingPathComponent("devices", isDirectory: true) }

    /// `logger` nil: a quiet one (the transcript is the demo's output).
    static func start(logger: Logger? = nil) async throws -> DemoWorld {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent(
            "duet-demo-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let wire = WireLog()
        var configuration = ServerConfiguration(
            signaling: .loopback(port: 0), media: .loopback(port: 0),
            dataDirectory: home.appendingPathComponent("server").path, openRegistration: true)
        configuration.mediaWitness = wire.witness
        // Every device of the demo runs in this process: the relay may reach them on loopback.
        configuration.relayPeers = .allowingLoopback
        let logger =
            logger
            ?? {
                var quiet = Logger(label: "duet.demo-server")
                quiet.logLevel = .critical  // the transcript is the demo's output
                return quiet
            }()
        let server: ServerApplication
        do {
            server = try await ServerApplication.start(configuration, handlingSignals: false, logger: logger)
        } catch {
            try? FileManager.default.removeItem(at: home)
            throw error
        }
        let serving = Task { try await server.run() }
        return DemoWorld(home: home, server: server, wire: wire, serving: serving)
    }

    private init(home: URL, server: ServerApplication, wire: WireLog, serving: Task<Void, any Error>) {
        self.home = home
        self.server = server
        self.wire = wire
        self.serving = serving
    }

    /// Stops the server and deletes the world's directory.
    func stop() async {
        await server.shutdown()
        _ = try? await serving.value
        try? FileManager.default.removeItem(at: home)
    }
}
