import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// The directory in a PostgreSQL database that several server nodes share (docs/deployment.md).
/// postgres-nio's client keeps a pool of connections; each `write` is one transaction on one
/// of them, at PostgreSQL's default isolation (read committed), run again when PostgreSQL
/// reports a conflict with another node's (a serialization failure, a deadlock, a unique key
/// taken between a read and an insert).
final class PostgresDirectoryStore: DirectoryStore {
    /// A statement that gets no answer in this long (PostgreSQL gone, a lock held by a node
    /// that hangs) fails as storage that is failing, rather than holding a request forever.
    static let answerTimeout: Duration = .seconds(10)
    /// Runs of one body when PostgreSQL reports conflicts each time.
    static let maximumAttempts = 4

    let client: PostgresClient
    let location: String
    private let runner: Task<Void, Never>
    private let logger: Logger

    /// Connects and brings the schema up to date (two nodes starting at once take turns: the
    /// migrations hold an advisory lock).
    init(_ location: PostgresLocation, logger: Logger) async throws(ServerStartupError) {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: Self.tls(location.tls))
        configuration.options.connectTimeout = .seconds(5)
        // A statement or a lock wait that outlasts the store's own patience is ended by
        // PostgreSQL too, so a request given up on holds no connection or lock.
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "10000"), ("lock_timeout", "8000"), ("idle_in_transaction_session_timeout", "15000")
        ]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.location = location.summary
        self.logger = logger
        runner = Task { await client.run() }
        do {
            try await Self.migrate(client, logger: logger)
        } catch {
            runner.cancel()
            throw .database("cannot use \(location.summary): \(Self.describe(error))")
        }
    }

    private static func tls(_ mode: PostgresLocation.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any DatabaseTransaction) async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await Self.answered {
                    try await self.client.withTransaction(logger: self.logger) { connection in
                        try await body(Transaction(connection: connection, logger: self.logger))
                    }
                }
            } catch {
                let cause = Self.cause(error)
                if Self.isConflict(cause), attempt < Self.maximumAttempts {
                    attempt += 1
                    continue
                }
                throw Self.refusal(cause)
            }
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any DatabaseTransaction) async throws -> T) async throws -> T {
        do {
            return try await Self.answered {
                try await self.client.withConnection { connection in
                    try await body(Transaction(connection: connection, logger: self.logger))
                }
            }
        } catch {
            throw Self.refusal(Self.cause(error))
        }
    }

    func close() async {
        runner.cancel()
        await runner.value
    }

    /// `body`'s answer, or a failing storage after `answerTimeout` — without waiting for the
    /// body, which postgres-nio does not stop on cancellation (a query waits for its answer):
    /// the body runs on, cancelled, and PostgreSQL's own `statement_timeout` ends it there.
    private static func answered<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let settled = Mutex(false)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let settle: @Sendable (Result<T, any Error>) -> Bool = { result in
                guard
                    settled.withLock({ done in
                        defer { done = true }
                        return !done
                    })
                else { return false }
                continuation.resume(with: result)
                return true
            }
            let timer = Mutex<Task<Void, Never>?>(nil)
            let work = Task {
                do { _ = settle(.success(try await body())) } catch { _ = settle(.failure(error)) }
                timer.withLock { $0?.cancel() }
            }
            timer.withLock { slot in
                slot = Task {
                    try? await Task.sleep(for: answerTimeout)
                    guard !Task.isCancelled else { return }
                    if settle(.failure(StorageRefusal(failure: .failing, detail: "PostgreSQL gave no answer in \(answerTimeout)"))) {
                        work.cancel()
                    }
                }
            }
        }
    }

    /// The error inside postgres-nio's transaction wrapper: the body's own, or the failed
    /// BEGIN/COMMIT's.
    private static func cause(_ error: any Error) -> any Error {
        guard let wrapped = error as? PostgresTransactionError else { return error }
        return wrapped.closureError ?? wrapped.commitError ?? wrapped.beginError ?? wrapped.rollbackError ?? error
    }

    /// PostgreSQL's SQLSTATE of a server error, nil for anything else.
    private static func sqlState(_ error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server else { return nil }
        return error.serverInfo?[.sqlState]
    }

    /// Conflicts with a concurrent transaction that a new attempt resolves.
    private static func isConflict(_ error: any Error) -> Bool {
        ["40001", "40P01", "23505"].contains(sqlState(error) ?? "")
    }

    /// PostgreSQL's storage faults and a database that cannot be reached become
    /// `StorageRefusal`; the body's own errors and everything else pass as they are.
    private static func refusal(_ error: any Error) -> any Error {
        if error is StorageRefusal { return error }
        if let state = sqlState(error) {
            let failure: StorageFailure? =
                switch state {
                case "53100": .full
                case "25006": .readOnly
                case _ where state.hasPrefix("53") || state.hasPrefix("58") || state.hasPrefix("57P") || state.hasPrefix("08"): .failing
                default: nil
                }
            return failure.map { StorageRefusal(failure: $0, detail: describe(error)) } ?? error
        }
        if let error = error as? PSQLError {
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
                .sslUnsupported:
                return StorageRefusal(failure: .failing, detail: describe(error))
            default: return error
            }
        }
        return error
    }

    /// PostgreSQL's message (or postgres-nio's code), one line, for logs and start-up errors.
    static func describe(_ error: any Error) -> String {
        if let refusal = error as? StorageRefusal { return refusal.detail }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            return "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
        }
        return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
    }

    /// Applies the steps of `DirectoryMigration.history` not yet applied, in one transaction under an advisory lock, recording each by name.
    private static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await answered {
            try await client.withTransaction(logger: logger) { connection in
                let tx = Transaction(connection: connection, logger: logger)
                // Any constant both nodes agree on: "duet" in ASCII.
                try await tx.execute("SELECT pg_advisory_xact_lock(1685419380)")
                try await tx.execute(
                    "CREATE TABLE IF NOT EXISTS schemaMigration (name TEXT PRIMARY KEY, position BIGINT NOT NULL, appliedAt BIGINT NOT NULL)"
                )
                let applied = Set(try await tx.rows("SELECT name FROM schemaMigration", []).map { try $0.text("name") })
                for (position, step) in DirectoryMigration.history.enumerated() where !applied.contains(step.name) {
                    // The extended protocol takes one statement at a time.
                    for statement in step.postgres.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                        try await tx.execute(String(statement))
                    }
                    try await tx.execute(
                        "INSERT INTO schemaMigration (name, position, appliedAt) VALUES (?, ?, ?)",
                        [step.name, position, Int64(Date().timeIntervalSince1970)])
                }
            }
        }
    }

    /// Statements on one leased connection, `?` placeholders numbered as PostgreSQL wants.
    struct Transaction: DatabaseTransaction {
        let connection: PostgresConnection
        let logger: Logger
        var skippingLockedRows: String { " FOR UPDATE SKIP LOCKED" }
        func locking(_ mode: RowLock) -> String { mode == .share ? " FOR SHARE" : " FOR UPDATE" }

        func rows(_ sql: String, _ arguments: [any SQLValueConvertible]) async throws -> [SQLRow] {
            var binds = PostgresBindings(capacity: arguments.count)
            for argument in arguments {
                switch argument.sqlValue {
                case .null: binds.appendNull()
                case let .integer(integer): binds.append(integer)
                case let .text(text): binds.append(text)
                case let .bytes(bytes): binds.append(ByteBuffer(bytes: bytes))
                }
            }
            let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binds)
            var rows: [SQLRow] = []
            for try await row in try await connection.query(query, logger: logger) {
                rows.append(SQLRow(try row.map { cell in (cell.columnName, try Self.value(cell)) }))
            }
            return rows
        }

        /// `?` → `$1`, `$2`… outside quoted text.
        static func numbered(_ sql: String) -> String {
            var result = ""
            var count = 0
            var quoted = false
            for character in sql {
                if character == "'" { quoted.toggle() }
                if character == "?" && !quoted {
                    count += 1
                    result += "$\(count)"
                } else {
                    result.append(character)
                }
            }
            return result
        }

        private static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .bytea: return .bytes(Array(buffer: try cell.decode(ByteBuffer.self)))
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}
