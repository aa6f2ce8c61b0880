import Foundation
import GRDB

/// The directory in one SQLite file beside one server, in WAL mode so readers never wait for
/// the writer. The zero-setup default (docs/deployment.md).
///
/// A transaction spans several awaits (the same `Directory` code runs on PostgreSQL), so it is
/// opened and closed by hand on the writer connection (`allowsUnsafeTransactions`) and
/// `WriterGate` keeps other writers out until it ends.
final class SQLiteDirectoryStore: DirectoryStore {
    static let fileName = "duet-server.sqlite"

    private let pool: DatabasePool
    private let gate = WriterGate()
    let location: String

    /// Opens (or makes) the file in `directory` and brings its schema up to date.
    init(in directory: URL) throws(ServerStartupError) {
        let path = directory.appendingPathComponent(Self.fileName).path
        location = directory.path
        do {
            var configuration = Configuration()
            configuration.label = "duet-server"
            configuration.busyMode = .timeout(10)
            configuration.allowsUnsafeTransactions = true
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw .database(Self.openFailure(path: path, directory: directory.path, error))
        }
    }

    /// One line naming the file, what SQLite said and what to do, rather than GRDB's dump.
    private static func openFailure(path: String, directory: String, _ error: any Error) -> String {
        let sqlite = error as? DatabaseError
        let reason = sqlite?.message ?? "\(error)"
        if let code = sqlite?.resultCode, code == .SQLITE_NOTADB || code == .SQLITE_CORRUPT {
            return
                "cannot open the server database \(path): \(reason); restore it from a backup, or move it away to start afresh (the accounts and groups in it are then lost)"
        }
        guard let failure = StorageFailure(database: error) else { return "cannot open the server database \(path): \(reason)" }
        return "cannot open the server database \(path): \(reason); \(failure.advice(directory: directory))"
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for step in DirectoryMigration.history {
            guard let sql = step.sqlite else { continue }  // PostgreSQL only: several nodes
            migrator.registerMigration(step.name) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any DatabaseTransaction) async throws -> T) async throws -> T {
        await gate.enter()
        do {
            try await pool.writeWithoutTransaction { db in
                // A transaction a cancelled task could not close is closed here, before the next.
                if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
                try db.execute(sql: "BEGIN IMMEDIATE")
            }
            let result = try await body(Transaction(pool: pool, writing: true))
            try await pool.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }
            await gate.leave()
            return result
        } catch {
            // Queued on the writer in order, before the next transaction's BEGIN, even when this
            // task is cancelled.
            pool.asyncWriteWithoutTransaction { db in
                if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
            }
            await gate.leave()
            throw Self.refusal(error)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any DatabaseTransaction) async throws -> T) async throws -> T {
        do { return try await body(Transaction(pool: pool, writing: false)) } catch { throw Self.refusal(error) }
    }

    func close() async { try? pool.close() }

    /// SQLite's storage faults become `StorageRefusal`; everything else passes as it is.
    private static func refusal(_ error: any Error) -> any Error {
        guard let failure = StorageFailure(database: error) else { return error }
        return StorageRefusal(failure: failure, detail: "\(error)")
    }

    /// Statements on the writer (inside the transaction `write` opened) or on a reader.
    private struct Transaction: DatabaseTransaction {
        let pool: DatabasePool
        let writing: Bool
        var skippingLockedRows: String { "" }
        func locking(_ mode: RowLock) -> String { "" }

        func rows(_ sql: String, _ arguments: [any SQLValueConvertible]) async throws -> [SQLRow] {
            let bound = StatementArguments(arguments.map { Self.databaseValue($0.sqlValue) })
            let fetch: @Sendable (Database) throws -> [SQLRow] = { db in
                try Row.fetchAll(db, sql: sql, arguments: bound).map(Self.row)
            }
            return writing ? try await pool.writeWithoutTransaction(fetch) : try await pool.read(fetch)
        }

        private static func databaseValue(_ value: SQLValue) -> DatabaseValue {
            switch value {
            case .null: .null
            case let .integer(integer): integer.databaseValue
            case let .text(text): text.databaseValue
            case let .bytes(bytes): Data(bytes).databaseValue
            }
        }

        private static func row(_ row: Row) -> SQLRow {
            SQLRow(
                zip(row.columnNames, row.databaseValues).map { name, value in
                    switch value.storage {
                    case .null: (name, .null)
                    case let .int64(integer): (name, .integer(integer))
                    case let .double(double): (name, .integer(Int64(double)))
                    case let .string(text): (name, .text(text))
                    case let .blob(data): (name, .bytes(Array(data)))
                    }
                })
        }
    }
}
