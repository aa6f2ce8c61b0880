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
                t.column("seed", .blob).notNull()          // sealed
                t.column("publicKey", .blob).notNull()
                t.column("createdAt", .double).notNull()
            }
            try db.create(table: "signedPrekey") { t in
                t.primaryKey("id", .integer)
                t.column("privateKey", .blob).notNull()    // sealed
                t.column("signature", .blob).notNull()
                t.column("createdAt", .double).notNull()
            }
            try db.create(table: "oneTimePrekey") { t in
                t.primaryKey("id", .integer)
                t.column("privateKey", .blob).notNull()    // sealed
            }
        }
        return migrator
    }
}
