import DuetCrypto
import Foundation
import GRDB

/// Whether the user has checked a contact's identity key, and whether it has changed since.
public enum ContactTrust: Equatable, Sendable {
    /// The current key is the one the user verified by safety number.
    case verified(at: Date)
    /// Never verified, and no change of key seen.
    case unverified
    /// The key changed after it was first seen (a verification, if any, no longer holds).
    /// Shown as a warning before any call until the user verifies again or acknowledges it.
    case keyChanged(at: Date)
}

/// A contact as this device knows it.
public struct Contact: Equatable, Sendable {
    public let number: String
    public var name: String?
    /// The identity key the server last gave for this number; nil until first fetched.
    public var identityKey: IdentityPublicKey?
    public var trust: ContactTrust

    /// "name (number)" or just the number.
    public var displayName: String { name.map { "\($0) (\(number))" } ?? number }
}

extension DeviceStore {
    /// Adds a contact, or renames it if present.
    public func addContact(number: String, name: String?, now: Date = Date()) throws(DeviceStoreError) {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO contact (number, name, addedAt) VALUES (?, ?, ?)
                    ON CONFLICT(number) DO UPDATE SET name = COALESCE(excluded.name, contact.name)
                    """, arguments: [number, name, now.timeIntervalSince1970])
        }
    }

    /// Removes a contact; returns false if there was none.
    @discardableResult
    public func removeContact(number: String) throws(DeviceStoreError) -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM contact WHERE number = ?", arguments: [number])
            return db.changesCount > 0
        }
    }

    /// Records the identity key the server (or a key-change notice) gave for `number`.
    /// A key different from the one held before voids any verification and marks the
    /// contact KEY CHANGED. Returns the contact's trust afterwards.
    @discardableResult
    public func recordIdentityKey(_ key: IdentityPublicKey, for number: String, now: Date = Date()) throws(DeviceStoreError) -> ContactTrust
    {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT identityKey FROM contact WHERE number = ?", arguments: [number]) else {
                return .unverified
            }
            let previous: Data? = row["identityKey"]
            let new = Data(key.rawRepresentation)
            if let previous, previous != new {
                try db.execute(
                    sql: """
                        UPDATE contact SET identityKey = ?, verifiedKey = NULL, verifiedAt = NULL, keyChangedAt = ? WHERE number = ?
                        """, arguments: [new, now.timeIntervalSince1970, number])
            } else if previous == nil {
                try db.execute(sql: "UPDATE contact SET identityKey = ? WHERE number = ?", arguments: [new, number])
            }
            return try Self.contact(db, number: number)?.trust ?? .unverified
        }
    }

    /// Marks the contact verified against `key`, which must be the key currently held:
    /// verifying an old number on screen must not bless a key that replaced it.
    public func markVerified(number: String, key: IdentityPublicKey, now: Date = Date()) throws(DeviceStoreError) -> Bool {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE contact SET verifiedKey = identityKey, verifiedAt = ?, keyChangedAt = NULL
                    WHERE number = ? AND identityKey = ?
                    """, arguments: [now.timeIntervalSince1970, number, Data(key.rawRepresentation)])
            return db.changesCount > 0
        }
    }

    /// Withdraws a verification.
    public func markUnverified(number: String) throws(DeviceStoreError) {
        try write { db in
            try db.execute(sql: "UPDATE contact SET verifiedKey = NULL, verifiedAt = NULL WHERE number = ?", arguments: [number])
        }
    }

    /// One contact, or nil.
    public func contact(number: String) throws(DeviceStoreError) -> Contact? {
        try read { db in try Self.contact(db, number: number) }
    }

    /// All contacts, by name then number.
    public func contacts() throws(DeviceStoreError) -> [Contact] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM contact ORDER BY COALESCE(name, number), number").map(Self.contact(from:))
        }
    }

    private static func contact(_ db: Database, number: String) throws -> Contact? {
        try Row.fetchOne(db, sql: "SELECT * FROM contact WHERE number = ?", arguments: [number]).map(contact(from:))
    }

    private static func contact(from row: Row) throws -> Contact {
        let key = (row["identityKey"] as Data?).flatMap { try? IdentityPublicKey(rawRepresentation: [UInt8]($0)) }
        let verifiedKey: Data? = row["verifiedKey"]
        let trust: ContactTrust
        if let changed = row["keyChangedAt"] as Double? {
            trust = .keyChanged(at: Date(timeIntervalSince1970: changed))
        } else if let verifiedKey, let key, verifiedKey == Data(key.rawRepresentation), let at = row["verifiedAt"] as Double? {
            trust = .verified(at: Date(timeIntervalSince1970: at))
        } else {
            trust = .unverified
        }
        return Contact(number: row["number"], name: row["name"], identityKey: key, trust: trust)
    }
}
