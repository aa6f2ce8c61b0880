import DuetCrypto
import Foundation
import GRDB
import Synchronization

/// One device's keys and settings: a single SQLite file (through GRDB) at
/// `$DUET_HOME/<profile>/device.sqlite`, mode 0600 in a 0700 folder (docs/ARCHITECTURE.md "Device store").
///
/// Private keys never leave it in the clear when the store was created with a passphrase:
/// each is sealed with a key Argon2id derives from `DUET_PASSPHRASE`. Opening such a store
/// without the passphrase, or with a wrong one, is an error that changes nothing.
public final class DeviceStore: Sendable {
    /// The file this store lives in.
    public let path: String
    let database: DatabaseQueue
    let vault: KeyVault
    /// The identity key pair once read: every pairwise channel of a group call needs it, and
    /// reading it meant a query, opening the sealed seed and deriving the pair (two scalar
    /// multiplications) each time — 32 × 31 times when a 32-member call starts. An identity
    /// never changes in a store (`initializeKeys` never overwrites one); its secret halves are
    /// `SecureBytes`, zeroed when the store is released.
    let identityCache = Mutex<IdentityKeyPair?>(nil)

    /// How many one-time prekeys a device keeps published (docs/ARCHITECTURE.md "Prekey top-up").
    public static let oneTimePrekeyTarget = 100
    /// Most one-time prekey private halves kept waiting for a call (`makeOneTimePrekeys`).
    public static let oneTimePrekeyCap = 300
    /// Below this many, the device tops itself back up to `oneTimePrekeyTarget`.
    public static let oneTimePrekeyLowWater = 20

    /// Opens the profile's store, creating it (and sealing it when `passphrase` is given)
    /// if `create` is true and it does not exist yet.
    public static func open(
        _ location: ProfileLocation, passphrase: String?, create: Bool,
        cost: PassphraseCost = .interactive
    ) throws(DeviceStoreError) -> DeviceStore {
        let path = location.storeFile.path
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists {
            guard create else { throw .noIdentity }
            try prepareFiles(directory: location.directory, file: location.storeFile)
        }
        do {
            var configuration = Configuration()
            configuration.label = "device-store"
            // A write appends to the log and is synced at checkpoints, rather than syncing a
            // rollback journal and the file on every write: about 4.5 ms a write on this
            // machine's disk, and an answer makes two on the way to the first audio. Power lost
            // right after a write may undo that write; the file stays consistent.
            configuration.journalMode = .wal
            // Another duet process on this profile (the terminal UI while `duet history` runs)
            // holds the file briefly: wait for it rather than fail at once.
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // A deleted row (a used one-time prekey's private half) is overwritten with
                // zeros, not left behind in a free page of the file.
                try db.execute(sql: "PRAGMA secure_delete = ON")
            }
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try migrator.migrate(queue)
            let vault = try queue.write { db throws -> KeyVault in
                try KeyVault.prepare(db, passphrase: passphrase?.isEmpty == false ? passphrase : nil, path: path, cost: cost)
            }
            return DeviceStore(path: path, database: queue, vault: vault)
        } catch let error as DeviceStoreError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw .corrupt(path: path, reason: "not an SQLite database")
        } catch {
            throw .storage(path: path, reason: "\(error)")
        }
    }

    private init(path: String, database: DatabaseQueue, vault: KeyVault) {
        self.path = path
        self.database = database
        self.vault = vault
    }

    /// Seals the private keys of a profile made without a passphrase (`duet keys seal`); the
    /// clear copies are overwritten (secure_delete) and the write-ahead log emptied, so none
    /// stays in the files. Refused for a store that is sealed already.
    public static func seal(_ location: ProfileLocation, passphrase: String, cost: PassphraseCost = .interactive) throws(DeviceStoreError) {
        guard !passphrase.isEmpty else { throw .storage(path: location.storeFile.path, reason: "an empty passphrase seals nothing") }
        let store: DeviceStore
        do { store = try open(location, passphrase: nil, create: false, cost: cost) } catch {
            if case .passphraseRequired = error { throw .alreadySealed(path: location.storeFile.path) }
            throw error
        }
        _ = try store.write { db in try KeyVault.sealExisting(db, passphrase: passphrase, path: store.path, cost: cost) }
        do { try store.database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) } } catch {
            throw .storage(path: store.path, reason: "sealed, but the write-ahead log was not emptied: \(error)")
        }
    }

    /// True when private keys are sealed with a passphrase.
    public var isSealed: Bool { vault.isSealed }

    /// Makes the 0700 folder and an empty 0600 file before SQLite touches it, so the keys
    /// are never readable by others, not even for a moment.
    private static func prepareFiles(directory: URL, file: URL) throws(DeviceStoreError) {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
            let fd = Foundation.open(file.path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
            guard fd >= 0 else { throw DeviceStoreError.storage(path: file.path, reason: String(cString: strerror(errno))) }
            close(fd)
        } catch let error as DeviceStoreError {
            throw error
        } catch {
            throw .storage(path: file.path, reason: error.localizedDescription)
        }
    }

    /// Runs a GRDB write and turns its errors into `DeviceStoreError`.
    func write<T>(_ body: (Database) throws -> T) throws(DeviceStoreError) -> T {
        do {
            return try database.write(body)
        } catch let error as DeviceStoreError {
            throw error
        } catch {
            throw .storage(path: path, reason: "\(error)")
        }
    }

    /// Runs a GRDB read and turns its errors into `DeviceStoreError`.
    func read<T>(_ body: (Database) throws -> T) throws(DeviceStoreError) -> T {
        do {
            return try database.read(body)
        } catch let error as DeviceStoreError {
            throw error
        } catch {
            throw .storage(path: path, reason: "\(error)")
        }
    }
}
