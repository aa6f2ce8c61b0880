/// One transaction on the directory's database, whichever engine holds it. Statements are
/// written once, in the SQL both SQLite and PostgreSQL take (`?` placeholders, `ON CONFLICT`,
/// `RETURNING`); the engine's store adapts the placeholders — so a statement holds no `?` of
/// its own in a literal, identifier or comment. Not Sendable: it lives inside one
/// `DirectoryStore.write` or `read` body.
protocol DatabaseTransaction {
    /// Runs a statement and returns the rows it produced (a `RETURNING` clause's, or a
    /// query's); a statement that changes nothing returns no rows.
    @discardableResult
    func rows(_ sql: String, _ arguments: [any SQLValueConvertible]) async throws -> [SQLRow]

    /// Appended to a SELECT whose rows the transaction goes on to take: locks them and passes
    /// over rows another transaction has locked (PostgreSQL's `FOR UPDATE SKIP LOCKED`), so
    /// nodes taking one-time prekeys at once take different ones instead of queueing for the
    /// same. Empty on SQLite, whose one writer keeps every other transaction out anyway.
    var skippingLockedRows: String { get }

    /// Appended to a SELECT of rows the transaction's later statements depend on: on
    /// PostgreSQL (read committed) it locks them, so another node's write cannot land between
    /// this transaction's reads (`FOR SHARE`) or between its read and its write (`FOR UPDATE`).
    /// Empty on SQLite, whose transactions are serial.
    func locking(_ mode: RowLock) -> String
}

/// See `DatabaseTransaction.locking`.
enum RowLock {
    case share, update
}

extension DatabaseTransaction {
    func execute(_ sql: String, _ arguments: [any SQLValueConvertible] = []) async throws {
        try await rows(sql, arguments)
    }

    func row(_ sql: String, _ arguments: [any SQLValueConvertible] = []) async throws -> SQLRow? {
        try await rows(sql, arguments).first
    }

    /// Whether the query returns at least one row.
    func exists(_ sql: String, _ arguments: [any SQLValueConvertible] = []) async throws -> Bool {
        try await row(sql, arguments) != nil
    }

    /// The first column of the first row as an integer (`COUNT(*)`), 0 when there is none.
    func count(_ sql: String, _ arguments: [any SQLValueConvertible] = []) async throws -> Int {
        guard let row = try await row(sql, arguments) else { return 0 }
        return Int(try row.integer("count"))
    }
}
