import DuetCrypto
import Foundation
import GRDB

@testable import DuetServer

/// A malicious operator, or whoever holds the server's disk: edits the directory in the
/// server's SQLite file while the server runs, behind its back — no key-change notice to
/// anyone, nothing a device could see except what the server now answers.
struct TamperedDirectory {
    private let database: DatabasePool

    init(_ server: TestServer) throws {
        database = try DatabasePool(
            path: URL(fileURLWithPath: server.dataDirectory)
                .appendingPathComponent(SQLiteDirectoryStore.fileName).path)
    }

    /// `number`'s identity key becomes `key`; its prekeys stay (signed by the old key).
    func replaceIdentityKey(of number: String, with key: IdentityPublicKey) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE account SET identityKey = ? WHERE number = ?", arguments: [Data(key.rawRepresentation), number])
            precondition(db.changesCount == 1, "\(number) is not registered")
        }
    }

    /// `number`'s whole bundle becomes `impostor`'s: identity key, signed prekey (validly
    /// signed by the impostor's identity) and one-time prekeys — what a server that wants to
    /// be the other end of a call must hand out.
    func replaceBundle(of number: String, with impostor: TestDevice) throws {
        try replaceIdentityKey(of: number, with: impostor.identity.publicKey)
        let spk = impostor.signedPrekey.publicPart
        try database.write { db in
            try db.execute(
                sql: "UPDATE signedPrekey SET keyId = ?, publicKey = ?, createdAt = ?, signature = ? WHERE number = ?",
                arguments: [
                    Int64(spk.id), Data(spk.publicKey.rawRepresentation), Int64(spk.createdAt.timeIntervalSince1970),
                    Data(spk.signature), number
                ])
            try db.execute(sql: "DELETE FROM oneTimePrekey WHERE number = ?", arguments: [number])
            for opk in impostor.oneTimePrekeys.map(\.publicPart) {
                try db.execute(
                    sql: "INSERT INTO oneTimePrekey (number, keyId, publicKey) VALUES (?, ?, ?)",
                    arguments: [number, Int64(opk.id), Data(opk.publicKey.rawRepresentation)])
            }
        }
    }

    /// Puts a one-time prekey the server already handed out back in `number`'s stock, so the
    /// next bundle carries it again (the server "reuses" it).
    func reissue(_ prekey: OneTimePrekeyPublic, of number: String) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT INTO oneTimePrekey (number, keyId, publicKey) VALUES (?, ?, ?)",
                arguments: [number, Int64(prekey.id), Data(prekey.publicKey.rawRepresentation)])
        }
    }

    /// The ids of `number`'s one-time prekeys the server still holds.
    func oneTimePrekeyIDs(of number: String) throws -> [UInt32] {
        try database.read { db in
            try Int64.fetchAll(db, sql: "SELECT keyId FROM oneTimePrekey WHERE number = ? ORDER BY keyId", arguments: [number]).map {
                UInt32($0)
            }
        }
    }
}

extension TamperedDirectory {
    /// Puts `number` into group `groupID` as the server alone can, with `vouch` (JSON of a
    /// `Signaling.MemberVouch`) or none.
    func insertGroupMember(_ number: String, into groupID: String, vouch: String? = nil) throws {
        try database.write { db in
            try db.execute(sql: "INSERT INTO groupMember (groupId, number, vouch) VALUES (?, ?, ?)", arguments: [groupID, number, vouch])
        }
    }
}

extension TamperedDirectory {
    /// Replaces group `groupID`'s founding (JSON of a `Signaling.GroupFounding`).
    func replaceFounding(of groupID: String, with founding: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE chatGroup SET founding = ? WHERE id = ?", arguments: [founding, groupID])
        }
    }
}

extension TamperedDirectory {
    /// Takes every one-time prekey of `number`'s off the server, as a drained device's are.
    func drainOneTimePrekeys(of number: String) throws {
        try database.write { db in try db.execute(sql: "DELETE FROM oneTimePrekey WHERE number = ?", arguments: [number]) }
    }
}
