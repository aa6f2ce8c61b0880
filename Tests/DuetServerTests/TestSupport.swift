import DuetClient
import DuetCrypto
import DuetServer
import DuetWire
import Foundation
import Logging
import PostgresLab
import Testing

/// A real server on ephemeral loopback ports with its data in a temporary directory.
struct TestServer {
    let app: ServerApplication
    let dataDirectory: String
    /// The PostgreSQL database holding the directory, when the server keeps it there.
    let database: TestDatabase?
    private let task: Task<Void, any Error>

    /// `signaling`/`media`: fixed ports (a restart on the ones clients know); ephemeral by default.
    static func start(
        dataDirectory: String? = nil, openRegistration: Bool = false, loginTimeout: Duration = .seconds(15),
        knockTimeout: Duration = .seconds(120), signaling: HostPort? = nil, media: HostPort? = nil,
        mediaWitness: MediaWitness? = nil, relayPeers: RelayPeerPolicy = .standard, limits: SignalingLimits = .init(),
        engine: DirectoryEngine = .sqlite, database: TestDatabase? = nil, coturn: CoturnRelay? = nil, logger: Logger? = nil
    ) async throws -> TestServer {
        let database = try database ?? engine.makeDatabase()
        let directory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("duet-server-test-\(UUID().uuidString)").path
        let configuration = ServerConfiguration(
            signaling: signaling ?? .loopback(port: 0), media: media ?? .loopback(port: 0),
            dataDirectory: directory, openRegistration: openRegistration)
        var configured = configuration
        configured.loginTimeout = loginTimeout
        configured.knockTimeout = knockTimeout
        configured.mediaWitness = mediaWitness
        configured.relayPeers = relayPeers
        configured.signalingLimits = limits
        configured.database = database?.url
        configured.coturn = coturn
        var quiet = Logger(label: "duet.server.test")
        quiet.logLevel = ProcessInfo.processInfo.environment["DUET_TEST_LOG"] == nil ? .warning : .debug
        let app = try await ServerApplication.start(configured, handlingSignals: false, logger: logger ?? quiet)
        let task = Task { try await app.run() }
        return TestServer(app: app, dataDirectory: directory, database: database, task: task)
    }

    var address: HostPort { app.signalingAddress }
    var fingerprint: CertificateFingerprint { app.certificateFingerprint }

    /// Stops the server and removes its data, unless a test restarts it on the same data.
    func stop(keepingData: Bool = false) async throws {
        await app.shutdown()
        try await task.value
        if !keepingData {
            try? FileManager.default.removeItem(atPath: dataDirectory)
            database?.drop()
        }
    }
}

/// Where a test server keeps its directory: the tests of the directory's behaviour run on both
/// (docs/deployment.md "One directory, two engines").
enum DirectoryEngine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A fresh PostgreSQL database in the test process's private cluster; nil for SQLite,
    /// whose file lives in the server's data directory.
    func makeDatabase() throws -> TestDatabase? {
        guard self == .postgres else { return nil }
        let cluster = try PostgresCluster.running()
        let (name, url) = try cluster.makeDatabase()
        return TestDatabase(name: name, url: url, cluster: cluster)
    }
}

/// One test's PostgreSQL database; dropped when the server that owns it stops.
struct TestDatabase: Sendable {
    let name: String
    let url: String
    let cluster: PostgresCluster

    func drop() { cluster.dropDatabase(name) }
}

/// A device's keys: identity, a signed prekey and some one-time prekeys.
struct TestDevice {
    let identity = IdentityKeyPair.generate()
    let signedPrekey: SignedPrekey
    let oneTimePrekeys: [OneTimePrekey]

    init(oneTimePrekeyCount: Int = 30, firstPrekeyID: UInt32 = 1) {
        signedPrekey = SignedPrekey.generate(id: 1, signedBy: identity)
        oneTimePrekeys = (0..<UInt32(oneTimePrekeyCount)).map { OneTimePrekey.generate(id: firstPrekeyID + $0) }
    }

    func connect(to server: TestServer, reconnect: ReconnectBackoff.Policy = .init()) async throws -> (ServerConnection, EventRecorder) {
        let connection = try ServerConnection(
            server: server.address, identity: identity,
            pinnedFingerprint: server.fingerprint.description, reconnect: reconnect)
        let recorder = EventRecorder(connection.events)
        try await connection.connect()
        return (connection, recorder)
    }

    @discardableResult
    func register(_ connection: ServerConnection, as number: String, invite: String? = nil) async throws -> ServerConnection.Registration {
        try await connection.register(
            number: number, name: "test \(number)", invite: invite,
            signedPrekey: signedPrekey.publicPart, oneTimePrekeys: oneTimePrekeys.map(\.publicPart))
    }
}

/// Collects a connection's events so tests can wait for one (a generous upper bound, never
/// a timing assertion).
actor EventRecorder {
    private(set) var events: [ServerEvent] = []

    init(_ stream: AsyncStream<ServerEvent>) {
        Task { [weak self] in
            for await event in stream { await self?.record(event) }
        }
    }

    private func record(_ event: ServerEvent) { events.append(event) }

    func waitFor(timeout: Duration = .seconds(30), _ matches: @Sendable (ServerEvent) -> Bool) async -> ServerEvent? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let event = events.first(where: matches) { return event }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return events.first(where: matches)
    }

    func contains(_ matches: (ServerEvent) -> Bool) -> Bool { events.contains(where: matches) }
}

func expectServerError(
    _ code: SignalingErrorCode, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected the server to refuse with \(code)", sourceLocation: sourceLocation)
    } catch let ServerConnectionError.server(actual, _) {
        #expect(actual == code, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a server error \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
