import Foundation
import GRDB

/// The server's one SQLite file, in WAL mode so readers never wait for the writer.
/// Schema changes are GRDB migrations: add a new one, never edit a shipped one.
enum DirectoryDatabase {
    static let fileName = "duet-server.sqlite"

    static func open(in directory: URL) throws(ServerStartupError) -> DatabasePool {
        let path = directory.appendingPathComponent(fileName).path
        do {
            var configuration = Configuration()
            configuration.label = "duet-server"
            configuration.busyMode = .timeout(10)
            let pool = try DatabasePool(path: path, configuration: configuration)
            try migrator.migrate(pool)
            return pool
        } catch {
            throw .database(openFailure(path: path, directory: directory.path, error))
        }
    }

    /// One line naming the file, what SQLite said and what to do, rather than GRDB's dump.
    private static func openFailure(path: String, directory: String, _ error: any Error) -> String {
        let sqlite = error as? DatabaseError
        let reason = sqlite?.message ?? "\(error)"
        if let code = sqlite?.resultCode, code == .SQLITE_NOTADB || code == .SQLITE_CORRUPT {
            return
                "cannot open the server database \(path): \(reason); restore it from a backup, or move it away to start afresh (the accounts and groups in it are then lost)"
        }
        guard let failure = StorageFailure(database: error) else { return "cannot open the server database \(path): \(reason)" }
        return "cannot open the server database \(path): \(reason); \(failure.advice(directory: directory))"
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: accounts, prekeys, invites, watchers, pending key changes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE account (
                        number TEXT PRIMARY KEY NOT NULL,
                        identityKey BLOB NOT NULL UNIQUE,
                        name TEXT,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE TABLE signedPrekey (
                        number TEXT PRIMARY KEY NOT NULL REFERENCES account(number) ON DELETE CASCADE,
                        keyId INTEGER NOT NULL,
                        publicKey BLOB NOT NULL,
                        createdAt INTEGER NOT NULL,
                        signature BLOB NOT NULL
                    );
                    CREATE TABLE oneTimePrekey (
                        number TEXT NOT NULL REFERENCES account(number) ON DELETE CASCADE,
                        keyId INTEGER NOT NULL,
                        publicKey BLOB NOT NULL,
                        PRIMARY KEY (number, keyId)
                    );
                    CREATE TABLE invite (
                        codeHash BLOB PRIMARY KEY NOT NULL,
                        number TEXT NOT NULL,
                        createdAt INTEGER NOT NULL
                    );
                    CREATE TABLE watcher (
                        watcherKey BLOB NOT NULL,
                        number TEXT NOT NULL,
                        PRIMARY KEY (watcherKey, number)
                    );
                    CREATE INDEX watcher_by_number ON watcher(number);
                    CREATE TABLE pendingKeyChange (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        recipientKey BLOB NOT NULL,
                        number TEXT NOT NULL,
                        newIdentityKey BLOB NOT NULL,
                        createdAt INTEGER NOT NULL
                    );
                    CREATE INDEX pendingKeyChange_by_recipient ON pendingKeyChange(recipientKey);
                    """)
        }
        migrator.registerMigration("v2: groups") { db in
            try db.execute(
                sql: """
                    CREATE TABLE chatGroup (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        owner TEXT NOT NULL,
                        createdAt INTEGER NOT NULL
                    );
                    CREATE TABLE groupMember (
                        groupId TEXT NOT NULL REFERENCES chatGroup(id) ON DELETE CASCADE,
                        number TEXT NOT NULL,
                        PRIMARY KEY (groupId, number)
                    );
                    CREATE INDEX groupMember_by_number ON groupMember(number);
                    """)
        }
        migrator.registerMigration("v3: group vouches") { db in
            // JSON of Signaling.GroupFounding and Signaling.MemberVouch, kept as the clients
            // signed them; groups made before carry none (their members get no sender keys).
            try db.execute(
                sql: """
                    ALTER TABLE chatGroup ADD COLUMN founding TEXT;
                    ALTER TABLE groupMember ADD COLUMN vouch TEXT;
                    """)
        }
        return migrator
    }
}
