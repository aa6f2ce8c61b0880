import Foundation

/// A value bound into a directory statement or read out of one: the four kinds both SQLite and
/// PostgreSQL store for the directory (docs/deployment.md "One directory, two engines").
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case bytes([UInt8])
}

/// Values convert to `SQLValue` so statements read as `tx.execute(sql, [number, key])`.
protocol SQLValueConvertible: Sendable {
    var sqlValue: SQLValue { get }
}

extension String: SQLValueConvertible { var sqlValue: SQLValue { .text(self) } }
extension Int64: SQLValueConvertible { var sqlValue: SQLValue { .integer(self) } }
extension Int: SQLValueConvertible { var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Data: SQLValueConvertible { var sqlValue: SQLValue { .bytes(Array(self)) } }
extension Array: SQLValueConvertible where Element == UInt8 { var sqlValue: SQLValue { .bytes(self) } }
extension Optional: SQLValueConvertible where Wrapped: SQLValueConvertible {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// One row of a result, by column name. PostgreSQL folds unquoted names to lower case, so
/// names are looked up without regard to case; an absent or mistyped column reads as a
/// `SQLRowError`, never a crash (the directory's own schema makes it a bug, not input).
struct SQLRow: Sendable {
    private let values: [String: SQLValue]

    init(_ columns: [(name: String, value: SQLValue)]) {
        var values: [String: SQLValue] = [:]
        for column in columns { values[column.name.lowercased()] = column.value }
        self.values = values
    }

    func value(_ column: String) -> SQLValue { values[column.lowercased()] ?? .null }

    func text(_ column: String) throws(SQLRowError) -> String {
        guard case let .text(text) = value(column) else { throw SQLRowError(column: column, value: value(column)) }
        return text
    }

    func optionalText(_ column: String) throws(SQLRowError) -> String? {
        if case .null = value(column) { return nil }
        return try text(column)
    }

    func integer(_ column: String) throws(SQLRowError) -> Int64 {
        guard case let .integer(integer) = value(column) else { throw SQLRowError(column: column, value: value(column)) }
        return integer
    }

    func optionalInteger(_ column: String) throws(SQLRowError) -> Int64? {
        if case .null = value(column) { return nil }
        return try integer(column)
    }

    func bytes(_ column: String) throws(SQLRowError) -> [UInt8] {
        guard case let .bytes(bytes) = value(column) else { throw SQLRowError(column: column, value: value(column)) }
        return bytes
    }
}

/// A column that is missing or of another kind than the code reading it expects.
struct SQLRowError: Error, CustomStringConvertible {
    let column: String
    let value: SQLValue
    var description: String { "column \(column) holds \(value), not what the directory expects" }
}
