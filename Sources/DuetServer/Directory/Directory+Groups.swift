import DuetWire
import Foundation
import GRDB

/// Groups (DESIGN §5 "Group"): named sets of registered numbers. The server needs them to
/// ring a group and to let only members into its calls; it never holds the members' keys.
extension Directory {
    /// What a membership change did, for the `groupChanged` event.
    struct GroupChange: Sendable {
        let group: Signaling.Group
        /// Everyone to tell: members before and after.
        let recipients: Set<String>
        let added: [String]
        let removed: [String]
    }

    func createGroup(_ request: Signaling.CreateGroup, by owner: String) async throws(DirectoryError) -> GroupChange {
        guard Signaling.isValidGroupName(request.name) else {
            throw .invalidGroup("a group name is 1 to \(Signaling.maximumGroupNameLength) characters, not blank, with no control characters")
        }
        for number in request.members { try PrekeyValidation.check(number: number) }
        let members = Set(request.members + [owner])
        guard members.count <= Signaling.maximumGroupMembers else {
            throw .invalidGroup("a group has at most \(Signaling.maximumGroupMembers) members (you asked for \(members.count))")
        }
        let id = "g" + (0..<8).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        return try await write { db in
            for number in members.sorted() where try !Self.isRegistered(number, db) { throw DirectoryError.unknownNumber(number) }
            try db.execute(sql: "INSERT INTO chatGroup (id, name, owner, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [id, request.name, owner, Int(Date().timeIntervalSince1970)])
            for number in members {
                try db.execute(sql: "INSERT INTO groupMember (groupId, number) VALUES (?, ?)", arguments: [id, number])
            }
            let group = try Self.group(id, db)!
            return GroupChange(group: group, recipients: members, added: group.members, removed: [])
        }
    }

    func addGroupMember(_ change: Signaling.GroupMemberChange, by member: String) async throws(DirectoryError) -> GroupChange {
        try PrekeyValidation.check(number: change.number)
        return try await write { db in
            let group = try Self.group(change.group, ofMember: member, db)
            guard !group.members.contains(change.number) else {
                return GroupChange(group: group, recipients: [], added: [], removed: [])
            }
            guard try Self.isRegistered(change.number, db) else { throw DirectoryError.unknownNumber(change.number) }
            guard group.members.count < Signaling.maximumGroupMembers else {
                throw DirectoryError.invalidGroup("\(group.name) already has the most members a group may have (\(Signaling.maximumGroupMembers))")
            }
            try db.execute(sql: "INSERT INTO groupMember (groupId, number) VALUES (?, ?)", arguments: [group.id, change.number])
            let updated = try Self.group(group.id, db)!
            return GroupChange(group: updated, recipients: Set(updated.members), added: [change.number], removed: [])
        }
    }

    func removeGroupMember(_ change: Signaling.GroupMemberChange, by member: String) async throws(DirectoryError) -> GroupChange {
        try await write { db in
            let group = try Self.group(change.group, ofMember: member, db)
            guard group.members.contains(change.number) else {
                return GroupChange(group: group, recipients: [], added: [], removed: [])
            }
            guard member == group.owner || member == change.number else {
                throw DirectoryError.notPermitted("only \(group.name)'s owner (\(group.owner)) may remove someone else; you may leave it yourself")
            }
            try db.execute(sql: "DELETE FROM groupMember WHERE groupId = ? AND number = ?", arguments: [group.id, change.number])
            if group.members.count == 1 {
                try db.execute(sql: "DELETE FROM chatGroup WHERE id = ?", arguments: [group.id])
            } else if change.number == group.owner {
                // The owner left: the longest-standing member would be better; any member keeps it usable.
                let heir = group.members.first { $0 != change.number }!
                try db.execute(sql: "UPDATE chatGroup SET owner = ? WHERE id = ?", arguments: [heir, group.id])
            }
            let updated = try Self.group(group.id, db) ?? Signaling.Group(id: group.id, name: group.name, owner: group.owner, members: [])
            return GroupChange(group: updated, recipients: Set(group.members), added: [], removed: [change.number])
        }
    }

    /// The groups `number` is a member of, by name.
    func groups(of number: String) async throws(DirectoryError) -> [Signaling.Group] {
        try await read { db in
            let ids = try String.fetchAll(db, sql: "SELECT groupId FROM groupMember WHERE number = ?", arguments: [number])
            return try ids.compactMap { try Self.group($0, db) }.sorted { ($0.name, $0.id) < ($1.name, $1.id) }
        }
    }

    /// A group `number` belongs to; unknown and not-a-member read the same, so ids of other
    /// people's groups cannot be probed.
    func group(_ id: String, ofMember number: String) async throws(DirectoryError) -> Signaling.Group {
        try await read { db in try Self.group(id, ofMember: number, db) }
    }

    private static func group(_ id: String, ofMember number: String, _ db: Database) throws -> Signaling.Group {
        guard let group = try group(id, db), group.members.contains(number) else { throw DirectoryError.unknownGroup(id) }
        return group
    }

    private static func group(_ id: String, _ db: Database) throws -> Signaling.Group? {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, name, owner FROM chatGroup WHERE id = ?", arguments: [id]) else { return nil }
        let members = try String.fetchAll(db, sql: "SELECT number FROM groupMember WHERE groupId = ? ORDER BY number", arguments: [id])
        return Signaling.Group(id: row["id"], name: row["name"], owner: row["owner"], members: members)
    }

    private static func isRegistered(_ number: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM account WHERE number = ?", arguments: [number]) ?? false
    }
}
