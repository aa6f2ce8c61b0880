import DuetCrypto
import Foundation
import GRDB

extension DeviceStore {
    /// What `initializeKeys` did.
    public enum KeyInitialization: Equatable, Sendable {
        /// A new identity, signed prekey and one-time prekeys were made.
        case created
        /// The profile already had an identity; nothing was changed.
        case alreadyPresent
    }

    /// Makes the identity key, a signed prekey and 100 one-time prekeys, in one transaction.
    /// Never overwrites an existing identity.
    @discardableResult
    public func initializeKeys(now: Date = Date()) throws(DeviceStoreError) -> KeyInitialization {
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM identity)") == true { return .alreadyPresent }
            let identity = IdentityKeyPair.generate()
            try db.execute(
                sql: "INSERT INTO identity (id, seed, publicKey, createdAt) VALUES (1, ?, ?, ?)",
                arguments: [vault.seal(identity.seed), Data(identity.publicKey.rawRepresentation), now.timeIntervalSince1970])
            try insertSignedPrekey(.generate(id: 1, signedBy: identity, at: now), db)
            _ = try insertOneTimePrekeys(count: Self.oneTimePrekeyTarget, db)
            return .created
        }
    }

    /// The device's identity key pair, read and derived once per open store (`identityCache`).
    public func identity() throws(DeviceStoreError) -> IdentityKeyPair {
        if let held = identityCache.withLock({ $0 }) { return held }
        let pair = try readIdentity()
        identityCache.withLock { $0 = pair }
        return pair
    }

    private func readIdentity() throws(DeviceStoreError) -> IdentityKeyPair {
        let row = try read { db in try Row.fetchOne(db, sql: "SELECT seed, publicKey FROM identity WHERE id = 1") }
        guard let row else { throw .noIdentity }
        let seed = try vault.open(row["seed"])
        do {
            let pair = try IdentityKeyPair(seed: seed)
            guard pair.publicKey.rawRepresentation == [UInt8](row["publicKey"] as Data) else {
                throw DeviceStoreError.corrupt(path: path, reason: "identity seed does not match its public key")
            }
            return pair
        } catch let error as DeviceStoreError {
            throw error
        } catch {
            throw .corrupt(path: path, reason: "identity key: \(error)")
        }
    }

    /// The public identity key, readable without the passphrase.
    public func identityPublicKey() throws(DeviceStoreError) -> IdentityPublicKey {
        let raw = try read { db in try Data.fetchOne(db, sql: "SELECT publicKey FROM identity WHERE id = 1") }
        guard let raw else { throw .noIdentity }
        do { return try IdentityPublicKey(rawRepresentation: [UInt8](raw)) } catch {
            throw .corrupt(path: path, reason: "identity public key: \(error)")
        }
    }

    /// The newest signed prekey: the one published in bundles.
    public func currentSignedPrekey() throws(DeviceStoreError) -> SignedPrekey {
        let row = try read { db in try Row.fetchOne(db, sql: "SELECT * FROM signedPrekey ORDER BY id DESC LIMIT 1") }
        guard let row else { throw .noIdentity }
        return try signedPrekey(from: row)
    }

    /// A signed prekey by id: a caller may have used the previous one if it fetched the
    /// bundle just before a rotation.
    public func signedPrekey(id: UInt32) throws(DeviceStoreError) -> SignedPrekey {
        let row = try read { db in try Row.fetchOne(db, sql: "SELECT * FROM signedPrekey WHERE id = ?", arguments: [id]) }
        guard let row else { throw .unknownSignedPrekey(id: id) }
        return try signedPrekey(from: row)
    }

    /// Replaces the published signed prekey with a new one (weekly, docs/SECURITY.md "Your device"). The previous
    /// one is kept for calls already being set up with it; older ones are deleted.
    public func rotateSignedPrekey(now: Date = Date()) throws(DeviceStoreError) -> SignedPrekey {
        let identity = try identity()
        return try write { db in
            let next = (try UInt32.fetchOne(db, sql: "SELECT MAX(id) FROM signedPrekey") ?? 0) + 1
            let prekey = SignedPrekey.generate(id: next, signedBy: identity, at: now)
            try insertSignedPrekey(prekey, db)
            try db.execute(sql: "DELETE FROM signedPrekey WHERE id < ?", arguments: [next - 1])
            return prekey
        }
    }

    /// How many one-time prekeys this device still holds.
    public func oneTimePrekeyCount() throws(DeviceStoreError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM oneTimePrekey") ?? 0 }
    }

    /// The public halves of every one-time prekey held, for upload.
    public func oneTimePrekeysForUpload() throws(DeviceStoreError) -> [OneTimePrekeyPublic] {
        let rows = try read { db in try Row.fetchAll(db, sql: "SELECT id, privateKey FROM oneTimePrekey ORDER BY id") }
        var result: [OneTimePrekeyPublic] = []
        for row in rows {
            result.append(try oneTimePrekey(from: row).publicPart)
        }
        return result
    }

    /// Makes `count` new one-time prekeys and returns their public halves for upload. The
    /// server's count, not ours, decides how many: keys it handed out stay here until a call
    /// uses them, so the device usually holds more than the server has left.
    ///
    /// The device keeps at most `oneTimePrekeyCap` private halves: past that the oldest go —
    /// handed out longest ago, they were most likely taken by someone draining the server, and
    /// a store topped up after every drain would otherwise grow without end.
    public func makeOneTimePrekeys(count: Int) throws(DeviceStoreError) -> [OneTimePrekeyPublic] {
        try write { db in
            let made = try insertOneTimePrekeys(count: max(0, count), db)
            try db.execute(
                sql: "DELETE FROM oneTimePrekey WHERE id NOT IN (SELECT id FROM oneTimePrekey ORDER BY id DESC LIMIT ?)",
                arguments: [Self.oneTimePrekeyCap])
            return made
        }
    }

    /// Uses one-time prekey `id` for `body` (an X3DH response) and deletes it in the same
    /// transaction: if `body` succeeds the key is gone for good; if it throws, nothing changed.
    public func consumeOneTimePrekey<T>(id: UInt32, _ body: (OneTimePrekey) throws -> T) throws -> T {
        do {
            return try database.write { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT id, privateKey FROM oneTimePrekey WHERE id = ?", arguments: [id]) else {
                    throw DeviceStoreError.unknownOneTimePrekey(id: id)
                }
                let prekey = try oneTimePrekey(from: row)
                try db.execute(sql: "DELETE FROM oneTimePrekey WHERE id = ?", arguments: [id])
                return try body(prekey)
            }
        } catch let error as DatabaseError {
            throw DeviceStoreError.storage(path: path, reason: "\(error)")
        }
    }

    /// Empties the write-ahead log into the file and truncates it. With `secure_delete` a deleted
    /// row is zeroed in the page that replaces it, but earlier copies of the page can sit in the
    /// log until it is overwritten: after this, a used one-time prekey's private half is in
    /// neither file. The call engine runs it when a call's keys are wiped (a sync, off the way
    /// to the first audio).
    public func eraseDeletedKeysFromLog() throws(DeviceStoreError) {
        do {
            try database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch {
            throw .storage(path: path, reason: "\(error)")
        }
    }

    // MARK: - Rows

    private func insertSignedPrekey(_ prekey: SignedPrekey, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO signedPrekey (id, privateKey, signature, createdAt) VALUES (?, ?, ?, ?)",
            arguments: [prekey.id, vault.seal(prekey.keyPair.privateKey), Data(prekey.signature), prekey.createdAt.timeIntervalSince1970])
    }

    /// Ids come from a counter that never goes back, so a used id is never reissued.
    private func insertOneTimePrekeys(count: Int, _ db: Database) throws -> [OneTimePrekeyPublic] {
        guard count > 0 else { return [] }
        let first =
            (try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'nextOneTimePrekeyID'")
                .flatMap { UInt32(String(decoding: $0, as: UTF8.self)) }) ?? 1
        var made: [OneTimePrekeyPublic] = []
        for id in first..<first + UInt32(count) {
            let prekey = OneTimePrekey.generate(id: id)
            try db.execute(
                sql: "INSERT INTO oneTimePrekey (id, privateKey) VALUES (?, ?)", arguments: [id, vault.seal(prekey.keyPair.privateKey)])
            made.append(prekey.publicPart)
        }
        try db.execute(
            sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('nextOneTimePrekeyID', ?)",
            arguments: [Data(String(first + UInt32(count)).utf8)])
        return made
    }

    private func signedPrekey(from row: Row) throws(DeviceStoreError) -> SignedPrekey {
        let id: UInt32 = row["id"]
        do {
            return try SignedPrekey(
                id: id, keyPair: X25519KeyPair(privateKey: vault.open(row["privateKey"])),
                createdAt: Date(timeIntervalSince1970: row["createdAt"]), signature: [UInt8](row["signature"] as Data))
        } catch let error as DeviceStoreError {
            throw error
        } catch {
            throw .corrupt(path: path, reason: "signed prekey \(id): \(error)")
        }
    }

    private func oneTimePrekey(from row: Row) throws(DeviceStoreError) -> OneTimePrekey {
        let id: UInt32 = row["id"]
        do {
            return OneTimePrekey(id: id, keyPair: try X25519KeyPair(privateKey: vault.open(row["privateKey"])))
        } catch let error as DeviceStoreError {
            throw error
        } catch {
            throw .corrupt(path: path, reason: "one-time prekey \(id): \(error)")
        }
    }
}
