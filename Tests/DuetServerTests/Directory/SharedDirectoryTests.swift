import DuetClient
import DuetCrypto
import DuetWire
import Foundation
import Logging
import Testing

@testable import DuetServer

/// Several server nodes on one PostgreSQL directory (docs/deployment.md): what one node
/// stores, every node answers; a one-time prekey is handed out once however many nodes hand
/// them out at the same time.
@Suite("Directory: several nodes on one PostgreSQL database", .serialized)
struct SharedDirectoryTests {
    @Test func twoNodesFetchingAtOnceNeverHandOutAOneTimePrekeyTwice() async throws {
        let first = try await TestServer.start(engine: .postgres)
        let second = try await TestServer.start(database: first.database)
        let owner = TestDevice(oneTimePrekeyCount: 40)
        let (o, _) = try await owner.connect(to: first)
        try await owner.register(o, as: "+15553100")

        let fetchers = try await withThrowingTaskGroup(of: ServerConnection.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let fetcher = TestDevice(oneTimePrekeyCount: 0)
                    let connection = try await fetcher.connect(to: index.isMultiple(of: 2) ? first : second).0
                    try await fetcher.register(connection, as: "+155531\(10 + index)")
                    return connection
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let bundles = try await withThrowingTaskGroup(of: PrekeyBundle.self) { group in
            for fetcher in fetchers {
                for _ in 0..<3 { group.addTask { try await fetcher.fetchBundle(number: "+15553100") } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let handedOut = bundles.compactMap(\.oneTimePrekey)
        let left = try await o.uploadPrekeys(oneTimePrekeys: [])
        #expect(bundles.count == 60)
        #expect(Set(handedOut.map(\.id)).count == handedOut.count, "a one-time prekey was handed out twice")
        #expect(handedOut.count == 40 && left == 0, "every one-time prekey was handed out once: \(handedOut.count) out, \(left) left")
        #expect(bundles.allSatisfy { $0.identityKey == owner.identity.publicKey })
        for connection in fetchers + [o] { await connection.close() }
        try await second.stop(keepingData: true)
        try await first.stop()
    }

    /// Both engines keep the same history of schema steps, by name and in order.
    @Test(arguments: DirectoryEngine.allCases) func theSchemaHistoryIsTheSameOnBothEngines(engine: DirectoryEngine) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("duet-schema-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (store, database) = try await engine.makeStore(in: folder)
        defer { database?.drop() }
        let query =
            engine == .sqlite
            ? "SELECT identifier AS name FROM grdb_migrations ORDER BY rowid" : "SELECT name FROM schemaMigration ORDER BY position"
        let names = try await store.read { tx in try await tx.rows(query, []).map { try $0.text("name") } }
        let expected = DirectoryMigration.history.filter { engine == .postgres || $0.sqlite != nil }.map(\.name)
        #expect(names == expected)
        await store.close()
    }
}
