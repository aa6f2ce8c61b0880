/// One step of the directory's schema history, written for each engine (docs/deployment.md).
/// Both engines apply the same steps under the same names in the same order; add a new step at
/// the end, never edit a shipped one. A step for several nodes only (`ClusterMigration`) has no
/// SQLite text and is skipped there. A step's statements contain no ';' of their own (the
/// PostgreSQL runner splits on it). SQLite's types are the ones it always had (GRDB's migrator keeps
/// its history); PostgreSQL's say the same in its words (BYTEA for BLOB, BIGINT for INTEGER).
struct DirectoryMigration: Sendable {
    let name: String
    let sqlite: String?
    let postgres: String

    static let history: [DirectoryMigration] = [
        accounts, groups, groupVouches, ClusterMigration.nodes, ClusterMigration.certificatesAndRecordings, sealedNotices
    ]

    static let accounts = DirectoryMigration(
        name: "v1: accounts, prekeys, invites, watchers, pending key changes",
        sqlite: """
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
            """,
        postgres: """
            CREATE TABLE account (
                number TEXT PRIMARY KEY NOT NULL,
                identityKey BYTEA NOT NULL UNIQUE,
                name TEXT,
                updatedAt BIGINT NOT NULL
            );
            CREATE TABLE signedPrekey (
                number TEXT PRIMARY KEY NOT NULL REFERENCES account(number) ON DELETE CASCADE,
                keyId BIGINT NOT NULL,
                publicKey BYTEA NOT NULL,
                createdAt BIGINT NOT NULL,
                signature BYTEA NOT NULL
            );
            CREATE TABLE oneTimePrekey (
                number TEXT NOT NULL REFERENCES account(number) ON DELETE CASCADE,
                keyId BIGINT NOT NULL,
                publicKey BYTEA NOT NULL,
                PRIMARY KEY (number, keyId)
            );
            CREATE TABLE invite (
                codeHash BYTEA PRIMARY KEY NOT NULL,
                number TEXT NOT NULL,
                createdAt BIGINT NOT NULL
            );
            CREATE TABLE watcher (
                watcherKey BYTEA NOT NULL,
                number TEXT NOT NULL,
                PRIMARY KEY (watcherKey, number)
            );
            CREATE INDEX watcher_by_number ON watcher(number);
            CREATE TABLE pendingKeyChange (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                recipientKey BYTEA NOT NULL,
                number TEXT NOT NULL,
                newIdentityKey BYTEA NOT NULL,
                createdAt BIGINT NOT NULL
            );
            CREATE INDEX pendingKeyChange_by_recipient ON pendingKeyChange(recipientKey);
            """)

    static let groups = DirectoryMigration(
        name: "v2: groups",
        sqlite: """
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
            """,
        postgres: """
            CREATE TABLE chatGroup (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                owner TEXT NOT NULL,
                createdAt BIGINT NOT NULL
            );
            CREATE TABLE groupMember (
                groupId TEXT NOT NULL REFERENCES chatGroup(id) ON DELETE CASCADE,
                number TEXT NOT NULL,
                PRIMARY KEY (groupId, number)
            );
            CREATE INDEX groupMember_by_number ON groupMember(number);
            """)

    /// Notices a device left for another that was away (a missed call, docs/history.md): sealed
    /// to the recipient's identity key (the one the number was bound to when it was left), so
    /// only that device opens it; kept until the recipient says it has them.
    static let sealedNotices = DirectoryMigration(
        name: "v4: sealed notices",
        sqlite: """
            CREATE TABLE sealedNotice (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                toKey BLOB NOT NULL,
                fromKey BLOB NOT NULL,
                body BLOB NOT NULL,
                createdAt INTEGER NOT NULL
            );
            CREATE INDEX sealedNotice_by_recipient ON sealedNotice(toKey);
            """,
        postgres: """
            CREATE TABLE sealedNotice (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                toKey BYTEA NOT NULL,
                fromKey BYTEA NOT NULL,
                body BYTEA NOT NULL,
                createdAt BIGINT NOT NULL
            );
            CREATE INDEX sealedNotice_by_recipient ON sealedNotice(toKey);
            """)

    /// JSON of Signaling.GroupFounding and Signaling.MemberVouch, kept as the clients signed
    /// them; groups made before carry none (their members get no sender keys).
    static let groupVouches = DirectoryMigration(
        name: "v3: group vouches",
        sqlite: """
            ALTER TABLE chatGroup ADD COLUMN founding TEXT;
            ALTER TABLE groupMember ADD COLUMN vouch TEXT;
            """,
        postgres: """
            ALTER TABLE chatGroup ADD COLUMN founding TEXT;
            ALTER TABLE groupMember ADD COLUMN vouch TEXT;
            """)
}
