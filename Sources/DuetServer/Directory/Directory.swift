import DuetCrypto
import DuetWire
import Foundation
import GRDB

/// Numbers, identity keys and prekeys (docs/server.md), plus who watches which number.
/// Every change is one SQLite write transaction, so a crash or a concurrent request never
/// sees half of one — in particular a one-time prekey is selected and deleted atomically.
final class Directory: Sendable {
    static let maximumPrekeysPerUpload = 500
    /// Below this many one-time prekeys the owner is told to top up (docs/ARCHITECTURE.md "Prekey top-up").
    static let lowPrekeyThreshold = 20
    /// One-time prekeys the server holds for one number; uploads past it are dropped, and the
    /// reply's count says what is held. Twice what a device keeps there (100).
    static let maximumOneTimePrekeys = 200
    /// Numbers one key may watch: each is a row kept until unwatched.
    static let maximumWatchedNumbers = 1_000

    private let pool: DatabasePool
    private let openRegistration: Bool
    /// Told of every write the storage refused and every one it took, so a full disk is
    /// logged once per episode.
    let health: StorageHealth

    init(pool: DatabasePool, openRegistration: Bool, health: StorageHealth) {
        self.pool = pool
        self.openRegistration = openRegistration
        self.health = health
    }

    struct RegistrationResult: Sendable {
        var number: String
        var oneTimePrekeyCount: Int
        /// The key that held the number before, when this registration moved it.
        var previousKey: [UInt8]?
        /// Devices that were queued a keyChanged notice.
        var notifiedWatchers: [[UInt8]]
    }

    struct PendingKeyChange: Sendable {
        var id: Int64
        var notice: Signaling.KeyChanged
    }

    func number(boundTo key: [UInt8]) async throws(DirectoryError) -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT number FROM account WHERE identityKey = ?", arguments: [Data(key)]) }
    }

    /// Binds `request.number` to `key` (docs/server.md): a free number is taken; the same key
    /// refreshes its prekeys and name; another key needs an invite (or open registration),
    /// and then every watcher of the number is queued a keyChanged notice.
    func register(key: IdentityPublicKey, _ request: Signaling.Register) async throws(DirectoryError) -> RegistrationResult {
        try PrekeyValidation.check(number: request.number)
        try PrekeyValidation.check(request.signedPrekey, signedBy: key)
        try PrekeyValidation.check(request.oneTimePrekeys)
        let keyData = Data(key.rawRepresentation)
        let openRegistration = self.openRegistration
        return try await write { db in
            if let other = try String.fetchOne(db, sql: "SELECT number FROM account WHERE identityKey = ?", arguments: [keyData]),
                other != request.number
            {
                throw DirectoryError.keyAlreadyRegistered(other)
            }
            let now = Int64(Date().timeIntervalSince1970)
            let existing = try Data.fetchOne(db, sql: "SELECT identityKey FROM account WHERE number = ?", arguments: [request.number])
            var previousKey: [UInt8]?
            var notified: [[UInt8]] = []
            switch existing {
            case nil:
                try db.execute(
                    sql: "INSERT INTO account (number, identityKey, name, updatedAt) VALUES (?, ?, ?, ?)",
                    arguments: [request.number, keyData, request.name, now])
            case keyData?:
                try db.execute(
                    sql: "UPDATE account SET name = COALESCE(?, name), updatedAt = ? WHERE number = ?",
                    arguments: [request.name, now, request.number])
            case let oldKey?:
                if !openRegistration {
                    guard let code = request.invite else { throw DirectoryError.numberTaken(request.number) }
                    try db.execute(
                        sql: "DELETE FROM invite WHERE codeHash = ? AND number = ?",
                        arguments: [Data(InviteCode.hash(code)), request.number])
                    guard db.changesCount == 1 else { throw DirectoryError.invalidInvite(request.number) }
                }
                previousKey = Array(oldKey)
                // The old device's prekeys must never be handed out for the new key.
                try db.execute(sql: "DELETE FROM oneTimePrekey WHERE number = ?", arguments: [request.number])
                try db.execute(
                    sql: "UPDATE account SET identityKey = ?, name = ?, updatedAt = ? WHERE number = ?",
                    arguments: [keyData, request.name, now, request.number])
                let watchers = try Data.fetchAll(
                    db, sql: "SELECT watcherKey FROM watcher WHERE number = ? AND watcherKey != ?",
                    arguments: [request.number, keyData])
                for watcher in watchers {
                    // Only the newest key matters to a device that was offline through several changes.
                    try db.execute(
                        sql: "DELETE FROM pendingKeyChange WHERE recipientKey = ? AND number = ?",
                        arguments: [watcher, request.number])
                    try db.execute(
                        sql: "INSERT INTO pendingKeyChange (recipientKey, number, newIdentityKey, createdAt) VALUES (?, ?, ?, ?)",
                        arguments: [watcher, request.number, keyData, now])
                    notified.append(Array(watcher))
                }
            }
            try Self.storeSignedPrekey(request.signedPrekey, number: request.number, db: db)
            try Self.storeOneTimePrekeys(request.oneTimePrekeys, number: request.number, db: db)
            let count = try Self.oneTimePrekeyCount(number: request.number, db: db)
            return RegistrationResult(
                number: request.number, oneTimePrekeyCount: count, previousKey: previousKey, notifiedWatchers: notified)
        }
    }

    /// Adds one-time prekeys and optionally rotates the signed prekey; returns how many
    /// one-time prekeys the server now holds.
    func uploadPrekeys(key: IdentityPublicKey, _ request: Signaling.UploadPrekeys) async throws(DirectoryError) -> Int {
        if let spk = request.signedPrekey { try PrekeyValidation.check(spk, signedBy: key) }
        try PrekeyValidation.check(request.oneTimePrekeys)
        let keyData = Data(key.rawRepresentation)
        return try await write { db in
            guard let number = try String.fetchOne(db, sql: "SELECT number FROM account WHERE identityKey = ?", arguments: [keyData]) else {
                throw DirectoryError.notRegistered
            }
            if let spk = request.signedPrekey { try Self.storeSignedPrekey(spk, number: number, db: db) }
            try Self.storeOneTimePrekeys(request.oneTimePrekeys, number: number, db: db)
            return try Self.oneTimePrekeyCount(number: number, db: db)
        }
    }

    /// The bundle for `number`, taking (and deleting) one one-time prekey if any is left,
    /// and recording `requester` as a watcher of the number.
    ///
    /// When the storage refuses the write (a full disk), the bundle comes without a one-time
    /// prekey and no watcher is recorded: a prekey is handed out only once its deletion has
    /// committed, or it could be handed out twice; and X3DH without DH4 is what a caller does
    /// anyway when a number has run out of prekeys, so calls keep working through the fault.
    ///
    /// Only a registered requester gets a bundle; `withOneTimePrekey: false` (the handout rate
    /// spent, `PrekeyHandoutLimit`) gives one without a one-time prekey.
    func fetchBundle(
        number: String, requester: [UInt8],
        withOneTimePrekey: Bool = true
    ) async throws(DirectoryError) -> (bundle: Signaling.Bundle, remaining: Int) {
        try PrekeyValidation.check(number: number)
        return try await write { db in
            guard try Self.isBound(requester, db) else { throw DirectoryError.notRegistered }
            return try Self.handOut(number, withOneTimePrekey: withOneTimePrekey, to: requester, db)
        } orWhenStorageRefuses: { db in
            guard try Self.isBound(requester, db) else { throw DirectoryError.notRegistered }
            return (try Self.bundle(number, db), try Self.oneTimePrekeyCount(number: number, db: db))
        }
    }

    /// One number's bundle wanted in `fetchBundles`, and whether it may take a one-time prekey.
    struct BundleWanted: Sendable {
        let number: String
        let withOneTimePrekey: Bool
    }

    /// `fetchBundle` for several numbers in one transaction — one commit, so one sync of the
    /// log, where a group call's members fetching each other's bundles one by one paid one per
    /// bundle. Numbers that are not registered are left out of the answer.
    func fetchBundles(_ wanted: [BundleWanted], requester: [UInt8]) async throws(DirectoryError) -> [(
        bundle: Signaling.Bundle, remaining: Int
    )] {
        for one in wanted { try PrekeyValidation.check(number: one.number) }
        return try await write { db in
            guard try Self.isBound(requester, db) else { throw DirectoryError.notRegistered }
            return try wanted.compactMap { one in
                try Self.registered { try Self.handOut(one.number, withOneTimePrekey: one.withOneTimePrekey, to: requester, db) }
            }
        } orWhenStorageRefuses: { db in
            guard try Self.isBound(requester, db) else { throw DirectoryError.notRegistered }
            return try wanted.compactMap { one in
                try Self.registered { (try Self.bundle(one.number, db), try Self.oneTimePrekeyCount(number: one.number, db: db)) }
            }
        }
    }

    /// `body`'s answer, or nil when it names a number nobody registered.
    private static func registered<T>(_ body: () throws -> T) throws -> T? {
        do { return try body() } catch DirectoryError.unknownNumber { return nil }
    }

    /// `number`'s bundle with its oldest one-time prekey (deleted here, so it is handed out once)
    /// when `withOneTimePrekey`; `requester` becomes a watcher of the number.
    private static func handOut(
        _ number: String, withOneTimePrekey: Bool, to requester: [UInt8], _ db: Database
    ) throws -> (bundle: Signaling.Bundle, remaining: Int) {
        var bundle = try Self.bundle(number, db)
        if withOneTimePrekey,
            let row = try Row.fetchOne(
                db, sql: "SELECT keyId, publicKey FROM oneTimePrekey WHERE number = ? ORDER BY keyId LIMIT 1", arguments: [number])
        {
            let id: Int64 = row["keyId"]
            try db.execute(sql: "DELETE FROM oneTimePrekey WHERE number = ? AND keyId = ?", arguments: [number, id])
            bundle.oneTimePrekey = .init(id: UInt32(truncatingIfNeeded: id), publicKey: Base64Bytes(Array(row["publicKey"] as Data)))
        }
        if requester != bundle.identityKey.bytes { try Self.addWatcher(requester, number: number, db: db) }
        return (bundle, try Self.oneTimePrekeyCount(number: number, db: db))
    }

    private static func isBound(_ key: [UInt8], _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM account WHERE identityKey = ?)", arguments: [Data(key)]) ?? false
    }

    /// `number`'s identity key and signed prekey, without a one-time prekey.
    private static func bundle(_ number: String, _ db: Database) throws -> Signaling.Bundle {
        guard let identityKey = try Data.fetchOne(db, sql: "SELECT identityKey FROM account WHERE number = ?", arguments: [number]),
            let row = try Row.fetchOne(
                db, sql: "SELECT keyId, publicKey, createdAt, signature FROM signedPrekey WHERE number = ?", arguments: [number])
        else { throw DirectoryError.unknownNumber(number) }
        let spk = Signaling.SignedPrekey(
            id: UInt32(truncatingIfNeeded: row["keyId"] as Int64),
            publicKey: Base64Bytes(Array(row["publicKey"] as Data)),
            createdAt: row["createdAt"],
            signature: Base64Bytes(Array(row["signature"] as Data)))
        return Signaling.Bundle(number: number, identityKey: Base64Bytes(Array(identityKey)), signedPrekey: spk, oneTimePrekey: nil)
    }

    /// The identity key bound to `number`; records `requester` as a watcher (not while the
    /// storage refuses writes: see `orWhenStorageRefuses`).
    func lookup(number: String, requester: [UInt8]) async throws(DirectoryError) -> [UInt8] {
        try PrekeyValidation.check(number: number)
        return try await write { db in
            let key = try Self.identityKey(number, db)
            if requester != key { try Self.addWatcher(requester, number: number, db: db) }
            return key
        } orWhenStorageRefuses: { db in
            try Self.identityKey(number, db)
        }
    }

    private static func identityKey(_ number: String, _ db: Database) throws -> [UInt8] {
        guard let key = try Data.fetchOne(db, sql: "SELECT identityKey FROM account WHERE number = ?", arguments: [number]) else {
            throw DirectoryError.unknownNumber(number)
        }
        return Array(key)
    }

    func watch(_ numbers: [String], watcher: [UInt8]) async throws(DirectoryError) {
        for n in numbers { try PrekeyValidation.check(number: n) }
        try await write { db in
            for n in numbers { try Self.addWatcher(watcher, number: n, db: db) }
            // Over the quota, the transaction rolls back: nothing of this request is kept.
            let watched = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM watcher WHERE watcherKey = ?", arguments: [Data(watcher)]) ?? 0
            guard watched <= Self.maximumWatchedNumbers else {
                throw DirectoryError.quotaExceeded(
                    "that would make \(watched) numbers watched by this device, over the \(Self.maximumWatchedNumbers) one device may watch; unwatch some first"
                )
            }
        } orWhenStorageRefuses: { _ in
        }
    }

    func unwatch(_ numbers: [String], watcher: [UInt8]) async throws(DirectoryError) {
        try await write { db in
            for n in numbers {
                try db.execute(sql: "DELETE FROM watcher WHERE watcherKey = ? AND number = ?", arguments: [Data(watcher), n])
            }
        }
    }

    func watchers(of number: String) async throws(DirectoryError) -> [[UInt8]] {
        try await read { db in
            try Data.fetchAll(db, sql: "SELECT watcherKey FROM watcher WHERE number = ?", arguments: [number]).map { Array($0) }
        }
    }

    func registeredNumbers(among numbers: [String]) async throws(DirectoryError) -> Set<String> {
        try await read { db in
            Set(try numbers.filter { try Bool.fetchOne(db, sql: "SELECT 1 FROM account WHERE number = ?", arguments: [$0]) ?? false })
        }
    }

    func oneTimePrekeyCount(number: String) async throws(DirectoryError) -> Int {
        try await read { db in try Self.oneTimePrekeyCount(number: number, db: db) }
    }

    func pendingKeyChanges(for recipient: [UInt8]) async throws(DirectoryError) -> [PendingKeyChange] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, number, newIdentityKey FROM pendingKeyChange WHERE recipientKey = ? ORDER BY id",
                arguments: [Data(recipient)]
            )
            .map {
                PendingKeyChange(
                    id: $0["id"], notice: .init(number: $0["number"], newIdentityKey: Base64Bytes(Array($0["newIdentityKey"] as Data))))
            }
        }
    }

    func deletePendingKeyChanges(ids: [Int64]) async throws(DirectoryError) {
        guard !ids.isEmpty else { return }
        try await write { db in
            for id in ids { try db.execute(sql: "DELETE FROM pendingKeyChange WHERE id = ?", arguments: [id]) }
        }
    }

    /// Stores a new single-use invite for `number` and returns the code to hand over.
    func issueInvite(number: String) throws(DirectoryError) -> String {
        try PrekeyValidation.check(number: number)
        let code = InviteCode.generate()
        do {
            try pool.write { db in
                try db.execute(
                    sql: "INSERT INTO invite (codeHash, number, createdAt) VALUES (?, ?, ?)",
                    arguments: [Data(InviteCode.hash(code)), number, Int64(Date().timeIntervalSince1970)])
            }
        } catch {
            throw Self.map(error)
        }
        return code
    }

    // MARK: - Helpers (inside a transaction)

    private static func storeSignedPrekey(_ spk: Signaling.SignedPrekey, number: String, db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO signedPrekey (number, keyId, publicKey, createdAt, signature) VALUES (?, ?, ?, ?, ?)",
            arguments: [number, Int64(spk.id), Data(spk.publicKey.bytes), spk.createdAt, Data(spk.signature.bytes)])
    }

    /// Stores one-time prekeys until `number` holds `maximumOneTimePrekeys`; the rest are dropped.
    private static func storeOneTimePrekeys(_ opks: [Signaling.OneTimePrekey], number: String, db: Database) throws {
        let room = maximumOneTimePrekeys - (try oneTimePrekeyCount(number: number, db: db))
        for opk in opks.prefix(max(0, room)) {
            try db.execute(
                sql: "INSERT OR REPLACE INTO oneTimePrekey (number, keyId, publicKey) VALUES (?, ?, ?)",
                arguments: [number, Int64(opk.id), Data(opk.publicKey.bytes)])
        }
    }

    private static func oneTimePrekeyCount(number: String, db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM oneTimePrekey WHERE number = ?", arguments: [number]) ?? 0
    }

    private static func addWatcher(_ watcher: [UInt8], number: String, db: Database) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO watcher (watcherKey, number) VALUES (?, ?)", arguments: [Data(watcher), number])
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(DirectoryError) -> T {
        do { return try await pool.read(body) } catch { throw refusal(error) }
    }

    /// One write transaction; a storage refusal is reported to `health` (logged once per
    /// episode) and becomes `.storage`, which tells the user that nothing changed.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(DirectoryError) -> T {
        let result: T
        do { result = try await pool.write(body) } catch { throw refusal(error) }
        health.wrote()
        return result
    }

    /// A write whose answer does not depend on it having committed: while the storage refuses
    /// writes, `fallback` answers from a read instead. Used where the write is bookkeeping
    /// (watchers, which only speed up key-change notices: a caller checks the identity key of
    /// every bundle it fetches anyway) or where the answer can do without it (a bundle without
    /// a one-time prekey), so what needs no write keeps being served through a full disk.
    private func write<T: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> T,
        orWhenStorageRefuses fallback: @escaping @Sendable (Database) throws -> T
    ) async throws(DirectoryError) -> T {
        do throws(DirectoryError) {
            return try await write(body)
        } catch {
            guard case .storage = error else { throw error }
            return try await read(fallback)
        }
    }

    private func refusal(_ error: any Error) -> DirectoryError {
        if let failure = StorageFailure(database: error) {
            health.refused(failure, detail: "\(error)")
            return .storage(failure)
        }
        return Self.map(error)
    }

    private static func map(_ error: any Error) -> DirectoryError {
        (error as? DirectoryError) ?? StorageFailure(database: error).map(DirectoryError.storage) ?? .internalFailure("\(error)")
    }
}
