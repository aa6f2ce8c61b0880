import DuetCrypto
import DuetWire
import Foundation

/// Numbers, identity keys and prekeys (docs/server.md), plus who watches which number.
/// Every change is one write transaction of its store (a SQLite file, or PostgreSQL shared by
/// several nodes: docs/deployment.md), so a crash or a concurrent request never sees half of
/// one — in particular a one-time prekey is handed out only once its deletion committed.
final class Directory: Sendable {
    static let maximumPrekeysPerUpload = 500
    /// Below this many one-time prekeys the owner is told to top up (docs/ARCHITECTURE.md "Prekey top-up").
    static let lowPrekeyThreshold = 20
    /// One-time prekeys the server holds for one number; uploads past it are dropped, and the
    /// reply's count says what is held. Twice what a device keeps there (100).
    static let maximumOneTimePrekeys = 200
    /// Numbers one key may watch: each is a row kept until unwatched.
    static let maximumWatchedNumbers = 1_000

    private let store: any DirectoryStore
    private let openRegistration: Bool
    /// Told of every write the storage refused and every one it took, so a full disk is
    /// logged once per episode.
    let health: StorageHealth

    init(store: any DirectoryStore, openRegistration: Bool, health: StorageHealth) {
        self.store = store
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
        try await read { tx in try await Self.number(boundTo: key, tx) }
    }

    /// Binds `request.number` to `key` (docs/server.md): a free number is taken; the same key
    /// refreshes its prekeys and name; another key needs an invite (or open registration),
    /// and then every watcher of the number is queued a keyChanged notice.
    func register(key: IdentityPublicKey, _ request: Signaling.Register) async throws(DirectoryError) -> RegistrationResult {
        try PrekeyValidation.check(number: request.number)
        try PrekeyValidation.check(request.signedPrekey, signedBy: key)
        try PrekeyValidation.check(request.oneTimePrekeys)
        let keyData = key.rawRepresentation
        let openRegistration = self.openRegistration
        return try await write { tx in
            if let other = try await Self.number(boundTo: keyData, tx), other != request.number {
                throw DirectoryError.keyAlreadyRegistered(other)
            }
            let now = Int64(Date().timeIntervalSince1970)
            // Locked (PostgreSQL): another node's registration of this number waits for this one.
            let existing = try await tx.row(
                "SELECT identityKey FROM account WHERE number = ?" + tx.locking(.update), [request.number])?.bytes("identityKey")
            var previousKey: [UInt8]?
            var notified: [[UInt8]] = []
            switch existing {
            case nil:
                try await tx.execute(
                    "INSERT INTO account (number, identityKey, name, updatedAt) VALUES (?, ?, ?, ?)",
                    [request.number, keyData, request.name, now])
            case keyData?:
                try await tx.execute(
                    "UPDATE account SET name = COALESCE(?, name), updatedAt = ? WHERE number = ?", [request.name, now, request.number])
            case let oldKey?:
                if !openRegistration {
                    guard let code = request.invite else { throw DirectoryError.numberTaken(request.number) }
                    let used = try await tx.rows(
                        "DELETE FROM invite WHERE codeHash = ? AND number = ? RETURNING number", [InviteCode.hash(code), request.number])
                    guard used.count == 1 else { throw DirectoryError.invalidInvite(request.number) }
                }
                previousKey = oldKey
                // The old device's prekeys must never be handed out for the new key.
                try await tx.execute("DELETE FROM oneTimePrekey WHERE number = ?", [request.number])
                try await tx.execute(
                    "UPDATE account SET identityKey = ?, name = ?, updatedAt = ? WHERE number = ?",
                    [keyData, request.name, now, request.number])
                let watchers = try await tx.rows(
                    "SELECT watcherKey FROM watcher WHERE number = ? AND watcherKey != ?", [request.number, keyData])
                for watcher in try watchers.map({ try $0.bytes("watcherKey") }) {
                    // Only the newest key matters to a device that was offline through several changes.
                    try await tx.execute(
                        "DELETE FROM pendingKeyChange WHERE recipientKey = ? AND number = ?", [watcher, request.number])
                    try await tx.execute(
                        "INSERT INTO pendingKeyChange (recipientKey, number, newIdentityKey, createdAt) VALUES (?, ?, ?, ?)",
                        [watcher, request.number, keyData, now])
                    notified.append(watcher)
                }
            }
            try await Self.storeSignedPrekey(request.signedPrekey, number: request.number, tx)
            try await Self.storeOneTimePrekeys(request.oneTimePrekeys, number: request.number, tx)
            let count = try await Self.oneTimePrekeyCount(number: request.number, tx)
            return RegistrationResult(
                number: request.number, oneTimePrekeyCount: count, previousKey: previousKey, notifiedWatchers: notified)
        }
    }

    /// Adds one-time prekeys and optionally rotates the signed prekey; returns how many
    /// one-time prekeys the server now holds.
    func uploadPrekeys(key: IdentityPublicKey, _ request: Signaling.UploadPrekeys) async throws(DirectoryError) -> Int {
        if let spk = request.signedPrekey { try PrekeyValidation.check(spk, signedBy: key) }
        try PrekeyValidation.check(request.oneTimePrekeys)
        let keyData = key.rawRepresentation
        return try await write { tx in
            guard let number = try await Self.number(boundTo: keyData, tx) else { throw DirectoryError.notRegistered }
            if let spk = request.signedPrekey { try await Self.storeSignedPrekey(spk, number: number, tx) }
            try await Self.storeOneTimePrekeys(request.oneTimePrekeys, number: number, tx)
            return try await Self.oneTimePrekeyCount(number: number, tx)
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
        return try await write { tx in
            guard try await Self.isBound(requester, tx) else { throw DirectoryError.notRegistered }
            return try await Self.handOut(number, withOneTimePrekey: withOneTimePrekey, to: requester, tx)
        } orWhenStorageRefuses: { tx in
            guard try await Self.isBound(requester, tx) else { throw DirectoryError.notRegistered }
            return (try await Self.bundle(number, tx), try await Self.oneTimePrekeyCount(number: number, tx))
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
        return try await write { tx in
            guard try await Self.isBound(requester, tx) else { throw DirectoryError.notRegistered }
            var found: [(bundle: Signaling.Bundle, remaining: Int)] = []
            for one in wanted {
                guard try await Self.isRegistered(one.number, tx) else { continue }
                found.append(try await Self.handOut(one.number, withOneTimePrekey: one.withOneTimePrekey, to: requester, tx))
            }
            return found
        } orWhenStorageRefuses: { tx in
            guard try await Self.isBound(requester, tx) else { throw DirectoryError.notRegistered }
            var found: [(bundle: Signaling.Bundle, remaining: Int)] = []
            for one in wanted where try await Self.isRegistered(one.number, tx) {
                found.append((try await Self.bundle(one.number, tx), try await Self.oneTimePrekeyCount(number: one.number, tx)))
            }
            return found
        }
    }

    /// `number`'s bundle with its oldest one-time prekey (deleted here, so it is handed out once)
    /// when `withOneTimePrekey`; `requester` becomes a watcher of the number.
    ///
    /// On PostgreSQL concurrent transactions (of this node or another) each lock a different
    /// prekey and pass over the ones locked; the deletion's answer is what was taken.
    private static func handOut(
        _ number: String, withOneTimePrekey: Bool, to requester: [UInt8], _ tx: any DatabaseTransaction
    ) async throws -> (bundle: Signaling.Bundle, remaining: Int) {
        var bundle = try await Self.bundle(number, tx)
        if withOneTimePrekey,
            let oldest = try await tx.row(
                "SELECT keyId FROM oneTimePrekey WHERE number = ? ORDER BY keyId LIMIT 1" + tx.skippingLockedRows, [number]),
            let taken = try await tx.row(
                "DELETE FROM oneTimePrekey WHERE number = ? AND keyId = ? RETURNING keyId, publicKey", [number, try oldest.integer("keyId")]
            )
        {
            bundle.oneTimePrekey = .init(
                id: UInt32(truncatingIfNeeded: try taken.integer("keyId")), publicKey: Base64Bytes(try taken.bytes("publicKey")))
        }
        if requester != bundle.identityKey.bytes { try await Self.addWatcher(requester, number: number, tx) }
        return (bundle, try await Self.oneTimePrekeyCount(number: number, tx))
    }

    private static func number(boundTo key: [UInt8], _ tx: any DatabaseTransaction) async throws -> String? {
        try await tx.row("SELECT number FROM account WHERE identityKey = ?", [key])?.text("number")
    }

    private static func isBound(_ key: [UInt8], _ tx: any DatabaseTransaction) async throws -> Bool {
        try await tx.exists("SELECT 1 FROM account WHERE identityKey = ?", [key])
    }

    static func isRegistered(_ number: String, _ tx: any DatabaseTransaction) async throws -> Bool {
        try await tx.exists("SELECT 1 FROM account WHERE number = ?", [number])
    }

    /// `number`'s identity key and signed prekey, without a one-time prekey.
    private static func bundle(_ number: String, _ tx: any DatabaseTransaction) async throws -> Signaling.Bundle {
        // Locked for the rest of the transaction (PostgreSQL): a registration moving the number
        // cannot land between the identity key read here and the prekeys read after.
        guard let identityKey = try await tx.row("SELECT identityKey FROM account WHERE number = ?" + tx.locking(.share), [number]),
            let row = try await tx.row("SELECT keyId, publicKey, createdAt, signature FROM signedPrekey WHERE number = ?", [number])
        else { throw DirectoryError.unknownNumber(number) }
        let spk = Signaling.SignedPrekey(
            id: UInt32(truncatingIfNeeded: try row.integer("keyId")),
            publicKey: Base64Bytes(try row.bytes("publicKey")),
            createdAt: try row.integer("createdAt"),
            signature: Base64Bytes(try row.bytes("signature")))
        return Signaling.Bundle(
            number: number, identityKey: Base64Bytes(try identityKey.bytes("identityKey")), signedPrekey: spk, oneTimePrekey: nil)
    }

    /// The identity key bound to `number`; records `requester` as a watcher (not while the
    /// storage refuses writes: see `orWhenStorageRefuses`).
    func lookup(number: String, requester: [UInt8]) async throws(DirectoryError) -> [UInt8] {
        try PrekeyValidation.check(number: number)
        return try await write { tx in
            let key = try await Self.identityKey(number, tx)
            if requester != key { try await Self.addWatcher(requester, number: number, tx) }
            return key
        } orWhenStorageRefuses: { tx in
            try await Self.identityKey(number, tx)
        }
    }

    private static func identityKey(_ number: String, _ tx: any DatabaseTransaction) async throws -> [UInt8] {
        guard let row = try await tx.row("SELECT identityKey FROM account WHERE number = ?", [number]) else {
            throw DirectoryError.unknownNumber(number)
        }
        return try row.bytes("identityKey")
    }

    func watch(_ numbers: [String], watcher: [UInt8]) async throws(DirectoryError) {
        for n in numbers { try PrekeyValidation.check(number: n) }
        try await write { tx in
            for n in numbers { try await Self.addWatcher(watcher, number: n, tx) }
            // Over the quota, the transaction rolls back: nothing of this request is kept.
            let watched = try await tx.count("SELECT COUNT(*) AS count FROM watcher WHERE watcherKey = ?", [watcher])
            guard watched <= Self.maximumWatchedNumbers else {
                throw DirectoryError.quotaExceeded(
                    "that would make \(watched) numbers watched by this device, over the \(Self.maximumWatchedNumbers) one device may watch; unwatch some first"
                )
            }
        } orWhenStorageRefuses: { _ in
        }
    }

    func unwatch(_ numbers: [String], watcher: [UInt8]) async throws(DirectoryError) {
        try await write { tx in
            for n in numbers { try await tx.execute("DELETE FROM watcher WHERE watcherKey = ? AND number = ?", [watcher, n]) }
        }
    }

    func watchers(of number: String) async throws(DirectoryError) -> [[UInt8]] {
        try await read { tx in
            try await tx.rows("SELECT watcherKey FROM watcher WHERE number = ?", [number]).map { try $0.bytes("watcherKey") }
        }
    }

    func registeredNumbers(among numbers: [String]) async throws(DirectoryError) -> Set<String> {
        try await read { tx in
            var registered = Set<String>()
            for number in numbers where try await Self.isRegistered(number, tx) { registered.insert(number) }
            return registered
        }
    }

    func oneTimePrekeyCount(number: String) async throws(DirectoryError) -> Int {
        try await read { tx in try await Self.oneTimePrekeyCount(number: number, tx) }
    }

    func pendingKeyChanges(for recipient: [UInt8]) async throws(DirectoryError) -> [PendingKeyChange] {
        try await read { tx in
            try await tx.rows(
                "SELECT id, number, newIdentityKey FROM pendingKeyChange WHERE recipientKey = ? ORDER BY id", [recipient]
            )
            .map {
                PendingKeyChange(
                    id: try $0.integer("id"),
                    notice: .init(number: try $0.text("number"), newIdentityKey: Base64Bytes(try $0.bytes("newIdentityKey"))))
            }
        }
    }

    func deletePendingKeyChanges(ids: [Int64]) async throws(DirectoryError) {
        guard !ids.isEmpty else { return }
        try await write { tx in
            for id in ids { try await tx.execute("DELETE FROM pendingKeyChange WHERE id = ?", [id]) }
        }
    }

    /// Stores a new single-use invite for `number` and returns the code to hand over.
    func issueInvite(number: String) async throws(DirectoryError) -> String {
        try PrekeyValidation.check(number: number)
        let code = InviteCode.generate()
        try await write { tx in
            try await tx.execute(
                "INSERT INTO invite (codeHash, number, createdAt) VALUES (?, ?, ?)",
                [InviteCode.hash(code), number, Int64(Date().timeIntervalSince1970)])
        }
        return code
    }

    // MARK: - Helpers (inside a transaction)

    private static func storeSignedPrekey(_ spk: Signaling.SignedPrekey, number: String, _ tx: any DatabaseTransaction) async throws {
        try await tx.execute(
            """
            INSERT INTO signedPrekey (number, keyId, publicKey, createdAt, signature) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (number) DO UPDATE SET keyId = excluded.keyId, publicKey = excluded.publicKey,
                createdAt = excluded.createdAt, signature = excluded.signature
            """,
            [number, Int64(spk.id), spk.publicKey.bytes, spk.createdAt, spk.signature.bytes])
    }

    /// Stores one-time prekeys until `number` holds `maximumOneTimePrekeys`; the rest are dropped.
    private static func storeOneTimePrekeys(_ opks: [Signaling.OneTimePrekey], number: String, _ tx: any DatabaseTransaction) async throws {
        let room = maximumOneTimePrekeys - (try await oneTimePrekeyCount(number: number, tx))
        for opk in opks.prefix(max(0, room)) {
            try await tx.execute(
                """
                INSERT INTO oneTimePrekey (number, keyId, publicKey) VALUES (?, ?, ?)
                ON CONFLICT (number, keyId) DO UPDATE SET publicKey = excluded.publicKey
                """,
                [number, Int64(opk.id), opk.publicKey.bytes])
        }
    }

    private static func oneTimePrekeyCount(number: String, _ tx: any DatabaseTransaction) async throws -> Int {
        try await tx.count("SELECT COUNT(*) AS count FROM oneTimePrekey WHERE number = ?", [number])
    }

    private static func addWatcher(_ watcher: [UInt8], number: String, _ tx: any DatabaseTransaction) async throws {
        try await tx.execute("INSERT INTO watcher (watcherKey, number) VALUES (?, ?) ON CONFLICT DO NOTHING", [watcher, number])
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any DatabaseTransaction) async throws -> T) async throws(DirectoryError) -> T {
        do { return try await store.read(body) } catch { throw refusal(error) }
    }

    /// One write transaction; a storage refusal is reported to `health` (logged once per
    /// episode) and becomes `.storage`, which tells the user that nothing changed.
    func write<T: Sendable>(_ body: @escaping @Sendable (any DatabaseTransaction) async throws -> T) async throws(DirectoryError) -> T {
        let result: T
        do { result = try await store.write(body) } catch { throw refusal(error) }
        health.wrote()
        return result
    }

    /// A write whose answer does not depend on it having committed: while the storage refuses
    /// writes, `fallback` answers from a read instead. Used where the write is bookkeeping
    /// (watchers, which only speed up key-change notices: a caller checks the identity key of
    /// every bundle it fetches anyway) or where the answer can do without it (a bundle without
    /// a one-time prekey), so what needs no write keeps being served through a full disk.
    private func write<T: Sendable>(
        _ body: @escaping @Sendable (any DatabaseTransaction) async throws -> T,
        orWhenStorageRefuses fallback: @escaping @Sendable (any DatabaseTransaction) async throws -> T
    ) async throws(DirectoryError) -> T {
        do throws(DirectoryError) {
            return try await write(body)
        } catch {
            guard case .storage = error else { throw error }
            return try await read(fallback)
        }
    }

    private func refusal(_ error: any Error) -> DirectoryError {
        if let refusal = error as? StorageRefusal {
            health.refused(refusal.failure, detail: refusal.detail)
            return .storage(refusal.failure)
        }
        return (error as? DirectoryError) ?? .internalFailure("\(error)")
    }
}
