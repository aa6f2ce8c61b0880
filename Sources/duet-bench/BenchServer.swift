import DuetServer
import DuetWire
import Foundation
import Logging

/// A real Duet server on loopback for the benches that measure whole calls: its data in a
/// temporary folder (removed by `stop`), its log silent so the figures stay readable.
struct BenchServer {
    let home: URL
    let app: ServerApplication
    private let serving: Task<Void, any Error>

    static func start(_ name: String) async throws -> BenchServer {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-bench-\(name)-\(UUID().uuidString)")
        var logger = Logger(label: "duet.bench.server")
        logger.logLevel = .critical
        let configuration = ServerConfiguration(
            signaling: .loopback(port: 0), media: .loopback(port: 0),
            dataDirectory: home.appendingPathComponent("server").path, openRegistration: false)
        let app = try await ServerApplication.start(configuration, handlingSignals: false, logger: logger)
        return BenchServer(home: home, app: app, serving: Task { try await app.run() })
    }

    var address: HostPort { app.signalingAddress }

    func stop() async {
        await app.shutdown()
        _ = try? await serving.value
        try? FileManager.default.removeItem(at: home)
    }
}
