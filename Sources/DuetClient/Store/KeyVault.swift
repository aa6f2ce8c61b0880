import DuetCrypto
import Foundation
import GRDB

/// Seals private keys before they reach SQLite and opens them on the way out.
///
/// Stored form: one format byte, then either the raw key (0x00, store made without a
/// passphrase) or a `StorageKey` box (0x01). The Argon2id salt and cost live in `meta`,
/// with a sealed check value that tells a wrong passphrase from a damaged key.
struct KeyVault: Sendable {
    private let storageKey: StorageKey?
    private let path: String

    var isSealed: Bool { storageKey != nil }

    private struct SealingParameters: Codable {
        let salt: [UInt8]
        let cost: PassphraseCost
    }

    private static let checkValue = Array("duet device store v1".utf8)

    /// Reads (or, for a new store, writes) the sealing parameters and checks the passphrase.
    static func prepare(_ db: Database, passphrase: String?, path: String, cost: PassphraseCost) throws -> KeyVault {
        let parameters = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'sealing'")
        let hasIdentityOrKeys = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM identity)") ?? false
        guard let parameters else {
            // An unsealed store, or a brand-new one that seals itself if a passphrase is given.
            let isNew = try !(Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'created')") ?? false)
            if isNew {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('created', ?)", arguments: [Data("1".utf8)])
                if let passphrase, !hasIdentityOrKeys {
                    return KeyVault(storageKey: try writeSealing(db, passphrase: passphrase, cost: cost), path: path)
                }
            }
            return KeyVault(storageKey: nil, path: path)
        }
        guard let passphrase else { throw DeviceStoreError.passphraseRequired(path: path) }
        guard let p = try? JSONDecoder().decode(SealingParameters.self, from: parameters),
            p.salt.count == StorageKey.saltCount,
            let check = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'check'")
        else {
            throw DeviceStoreError.corrupt(path: path, reason: "sealing parameters unreadable")
        }
        let key = try StorageKey(passphrase: passphrase, salt: p.salt, cost: p.cost)
        do {
            let opened = try key.open(Array(check))
            guard opened.withUnsafeBytes({ Array($0) }) == checkValue else {
                throw DeviceStoreError.corrupt(path: path, reason: "check value differs")
            }
        } catch is SealingError {
            throw DeviceStoreError.wrongPassphrase(path: path)
        }
        return KeyVault(storageKey: key, path: path)
    }

    /// New sealing parameters and check value in `meta`; the key they make.
    private static func writeSealing(_ db: Database, passphrase: String, cost: PassphraseCost) throws -> StorageKey {
        let p = SealingParameters(salt: StorageKey.randomSalt(), cost: cost)
        let key = try StorageKey(passphrase: passphrase, salt: p.salt, cost: p.cost)
        try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('sealing', ?)", arguments: [try JSONEncoder().encode(p)])
        try db.execute(
            sql: "INSERT INTO meta (key, value) VALUES ('check', ?)", arguments: [Data(key.seal(SecureBytes(copying: checkValue)))])
        return key
    }

    /// Seals a store made without a passphrase (`duet keys seal`), in the caller's transaction:
    /// every private key — identity seed, signed and one-time prekeys — is read in the clear
    /// and written back sealed under a key from `passphrase`.
    static func sealExisting(_ db: Database, passphrase: String, path: String, cost: PassphraseCost) throws -> KeyVault {
        guard try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'sealing'") == nil else {
            throw DeviceStoreError.alreadySealed(path: path)
        }
        let clear = KeyVault(storageKey: nil, path: path)
        let sealed = KeyVault(storageKey: try writeSealing(db, passphrase: passphrase, cost: cost), path: path)
        for (table, column) in [("identity", "seed"), ("signedPrekey", "privateKey"), ("oneTimePrekey", "privateKey")] {
            for row in try Row.fetchAll(db, sql: "SELECT id, \(column) AS secret FROM \(table)") {
                let id: Int64 = row["id"]
                let secret = try clear.open(row["secret"])
                try db.execute(sql: "UPDATE \(table) SET \(column) = ? WHERE id = ?", arguments: [sealed.seal(secret), id])
            }
        }
        return sealed
    }

    /// The stored form of a private key.
    func seal(_ secret: SecureBytes) -> Data {
        if let storageKey { return Data([0x01] + storageKey.seal(secret)) }
        return secret.withUnsafeBytes { Data([0x00] + $0) }
    }

    /// A private key from its stored form; the intermediate copy is wiped.
    func open(_ stored: Data) throws(DeviceStoreError) -> SecureBytes {
        var bytes = [UInt8](stored)
        defer { wipe(&bytes) }
        guard let format = bytes.first else { throw .corrupt(path: path, reason: "empty key") }
        switch (format, storageKey) {
        case (0x00, nil):
            guard bytes.count > 1 else { throw .corrupt(path: path, reason: "empty key") }
            return SecureBytes(copying: bytes.dropFirst())
        case (0x01, let key?):
            do {
                return try key.open(Array(bytes.dropFirst()))
            } catch {
                throw .corrupt(path: path, reason: "a sealed key does not open: \(error)")
            }
        case (0x01, nil):
            throw .passphraseRequired(path: path)
        default:
            throw .corrupt(path: path, reason: "unknown key format \(format)")
        }
    }
}
