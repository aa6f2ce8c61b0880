/// The tables that let several server nodes share one PostgreSQL database (docs/deployment.md
/// "Nodes"). PostgreSQL only: a server on SQLite is one node and needs none of them. Applied by
/// the same runner, in `DirectoryMigration.history`'s one order.
///
/// Every row that belongs to a node references it `ON DELETE CASCADE`: when a node is reaped
/// (unseen for `NodeMesh.deadAfterMilliseconds`), its presence, undelivered parcels and rooms
/// go with it, so nothing is left pointing at a dead node.
enum ClusterMigration {
    static let nodes = DirectoryMigration(
        name: "cluster v1: nodes, presence, parcels, rooms",
        sqlite: nil,
        postgres: """
            CREATE TABLE node (
                id TEXT PRIMARY KEY NOT NULL,
                signaling TEXT NOT NULL,
                media TEXT NOT NULL,
                rooms BIGINT NOT NULL DEFAULT 0,
                legs BIGINT NOT NULL DEFAULT 0,
                cpuPermille BIGINT NOT NULL DEFAULT 0,
                draining BIGINT NOT NULL DEFAULT 0,
                startedAt BIGINT NOT NULL,
                seenAt BIGINT NOT NULL
            );
            CREATE TABLE presence (
                identityKey BYTEA NOT NULL,
                number TEXT,
                node TEXT NOT NULL REFERENCES node(id) ON DELETE CASCADE,
                PRIMARY KEY (identityKey, node)
            );
            CREATE INDEX presence_by_number ON presence(number);
            CREATE TABLE parcel (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                node TEXT NOT NULL REFERENCES node(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                toNumber TEXT,
                toKey BYTEA,
                requestId BIGINT,
                replyTo TEXT,
                body BYTEA NOT NULL
            );
            CREATE INDEX parcel_by_node ON parcel(node);
            CREATE TABLE room (
                id TEXT PRIMARY KEY NOT NULL,
                node TEXT NOT NULL REFERENCES node(id) ON DELETE CASCADE,
                claimedAt BIGINT NOT NULL
            );
            """)

    /// Which certificate each node serves with, so a node hands devices only the others they
    /// can reconnect to under the pin they hold; and where each recording is kept (the
    /// signaling address of the node whose `--data` holds its file — a node's id changes at
    /// every start, its address does not). The index says no more than that: who met, and
    /// the meeting's code, stay in the recording's sealed sidecar (docs/recordings.md).
    static let certificatesAndRecordings = DirectoryMigration(
        name: "cluster v2: node certificates, recordings' index",
        sqlite: nil,
        postgres: """
            ALTER TABLE node ADD COLUMN certificate TEXT NOT NULL DEFAULT '';
            CREATE TABLE recording (
                id TEXT PRIMARY KEY NOT NULL,
                node TEXT NOT NULL,
                startedAt BIGINT NOT NULL,
                endedAt BIGINT
            );
            """)
}
