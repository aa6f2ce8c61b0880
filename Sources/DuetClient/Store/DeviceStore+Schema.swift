import GRDB

extension DeviceStore {
    /// Schema history. Migrations only ever append; a released one is never edited.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 keys") { db in
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .blob).notNull()
            }
            try db.create(table: "identity") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("seed", .blob).notNull()  // sealed
                t.column("publicKey", .blob).notNull()
                t.column("createdAt", .double).notNull()
            }
            try db.create(table: "signedPrekey") { t in
                t.primaryKey("id", .integer)
                t.column("privateKey", .blob).notNull()  // sealed
                t.column("signature", .blob).notNull()
                t.column("createdAt", .double).notNull()
            }
            try db.create(table: "oneTimePrekey") { t in
                t.primaryKey("id", .integer)
                t.column("privateKey", .blob).notNull()  // sealed
            }
        }
        migrator.registerMigration("v2 account and contacts") { db in
            try db.create(table: "account") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("number", .text)
                t.column("displayName", .text)
                t.column("server", .text)
                t.column("serverFingerprint", .text)  // pinned on first use, like ssh known_hosts
                t.column("registeredAt", .double)
            }
            try db.create(table: "contact") { t in
                t.primaryKey("number", .text)
                t.column("name", .text)
                t.column("identityKey", .blob)  // last key the server gave for this number
                t.column("verifiedKey", .blob)  // the key the user verified, if any
                t.column("verifiedAt", .double)
                t.column("keyChangedAt", .double)  // set when identityKey replaced an earlier key
                t.column("addedAt", .double).notNull()
            }
        }
        migrator.registerMigration("v3 group foundings") { db in
            // The root of each group's vouches as first seen (GroupVouches): a server that
            // later shows the group under another root is caught, as a changed key is.
            try db.create(table: "groupFounding") { t in
                t.primaryKey("groupId", .text)
                t.column("founder", .text).notNull()
                t.column("founderKey", .blob).notNull()
                t.column("nonce", .blob).notNull()
            }
        }
        migrator.registerMigration("v4 call history") { db in
            // docs/history.md: one row per call id, as the call goes.
            try db.create(table: "callHistory") { t in
                t.column("callId", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("direction", .text).notNull()
                t.column("peer", .text).notNull()
                t.column("peerName", .text)
                t.column("startedAt", .double).notNull()
                t.column("connectedAt", .double)
                t.column("endedAt", .double)
                t.column("path", .text)
                t.column("verified", .boolean).notNull().defaults(to: false)
                t.column("outcome", .text)
                t.uniqueKey(["kind", "callId"])
            }
            try db.create(index: "callHistory_by_start", on: "callHistory", columns: ["startedAt"])
        }
        return migrator
    }
}
