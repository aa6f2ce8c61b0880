/// Where the directory lives (docs/deployment.md): a SQLite file beside one server, or a
/// PostgreSQL database several server nodes share. `Directory` holds the rules and the SQL;
/// a store only runs transactions and turns its engine's errors into `StorageRefusal`.
protocol DirectoryStore: Sendable {
    /// Words naming where the data is, for operators' log lines; never a password.
    var location: String { get }

    /// One write transaction: committed when `body` returns, rolled back when it throws. An
    /// engine that reports a conflict between concurrent transactions (PostgreSQL's
    /// serialization failures and unique violations) runs `body` again in a new one, so a
    /// body must compute everything from what it reads inside.
    func write<T: Sendable>(_ body: @escaping @Sendable (any DatabaseTransaction) async throws -> T) async throws -> T

    /// Reads; a body that writes is an error.
    func read<T: Sendable>(_ body: @escaping @Sendable (any DatabaseTransaction) async throws -> T) async throws -> T

    /// Ends every connection; waits for none of the callers.
    func close() async
}

/// The engine refused a statement for a reason that is the storage's, not the request's:
/// a full disk, a read-only file system, a database server that cannot be reached.
struct StorageRefusal: Error {
    let failure: StorageFailure
    /// The engine's own words, for the log.
    let detail: String
}
