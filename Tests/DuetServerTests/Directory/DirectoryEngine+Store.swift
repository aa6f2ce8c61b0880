import Foundation
import Logging

@testable import DuetServer

extension DirectoryEngine {
    /// A store of this engine on its own: a SQLite file in `folder`, or a fresh PostgreSQL
    /// database (returned so the test drops it).
    func makeStore(in folder: URL) async throws -> (store: any DirectoryStore, database: TestDatabase?) {
        guard let database = try makeDatabase() else { return (try SQLiteDirectoryStore(in: folder), nil) }
        var logger = Logger(label: "duet.test.postgres")
        logger.logLevel = .warning
        return (try await PostgresDirectoryStore(try PostgresLocation(parsing: database.url), logger: logger), database)
    }
}
