import DuetWire
import Foundation

/// Groups (docs/group-calls.md): named sets of registered numbers. The server needs them to
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
            throw .invalidGroup(
                "a group name is 1 to \(Signaling.maximumGroupNameLength) characters, not blank, with no control characters")
        }
        for number in request.members { try PrekeyValidation.check(number: number) }
        let members = Set(request.members + [owner])
        guard members.count <= Signaling.maximumGroupMembers else {
            throw .invalidGroup("a group has at most \(Signaling.maximumGroupMembers) members (you asked for \(members.count))")
        }
        let vouches = try Self.vouches(request, owner: owner, members: members)
        let id = "g" + (0..<8).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        let founding = try Self.json(request.founding)
        var encoded: [String: String] = [:]
        for (number, vouch) in vouches { encoded[number] = try Self.json(vouch) }
        let vouchTexts = encoded
        return try await write { tx in
            for number in members.sorted() where try await !Self.isRegistered(number, tx) { throw DirectoryError.unknownNumber(number) }
            try await tx.execute(
                "INSERT INTO chatGroup (id, name, owner, createdAt, founding) VALUES (?, ?, ?, ?, ?)",
                [id, request.name, owner, Int64(Date().timeIntervalSince1970), founding])
            for number in members {
                try await tx.execute("INSERT INTO groupMember (groupId, number, vouch) VALUES (?, ?, ?)", [id, number, vouchTexts[number]])
            }
            let group = try await Self.group(id, tx)!
            return GroupChange(group: group, recipients: members, added: group.members, removed: [])
        }
    }

    func addGroupMember(_ change: Signaling.GroupMemberChange, by member: String) async throws(DirectoryError) -> GroupChange {
        try PrekeyValidation.check(number: change.number)
        if let vouch = change.vouch, !vouch.isWellFormed(for: change.number) || vouch.links[0].by != member {
            throw .invalidGroup(
                "a vouch for \(change.number) names them first, is signed by you, and has 1 to \(Signaling.maximumVouchLinks) links, each signed by the next one's member"
            )
        }
        let vouch = try Self.json(change.vouch)
        return try await write { tx in
            let group = try await Self.group(change.group, ofMember: member, tx)
            guard !group.members.contains(change.number) else {
                return GroupChange(group: group, recipients: [], added: [], removed: [])
            }
            guard try await Self.isRegistered(change.number, tx) else { throw DirectoryError.unknownNumber(change.number) }
            guard group.members.count < Signaling.maximumGroupMembers else {
                throw DirectoryError.invalidGroup(
                    "\(group.name) already has the most members a group may have (\(Signaling.maximumGroupMembers))")
            }
            try await tx.execute("INSERT INTO groupMember (groupId, number, vouch) VALUES (?, ?, ?)", [group.id, change.number, vouch])
            let updated = try await Self.group(group.id, tx)!
            return GroupChange(group: updated, recipients: Set(updated.members), added: [change.number], removed: [])
        }
    }

    func removeGroupMember(_ change: Signaling.GroupMemberChange, by member: String) async throws(DirectoryError) -> GroupChange {
        try await write { tx in
            let group = try await Self.group(change.group, ofMember: member, tx)
            guard group.members.contains(change.number) else {
                return GroupChange(group: group, recipients: [], added: [], removed: [])
            }
            guard member == group.owner || member == change.number else {
                throw DirectoryError.notPermitted(
                    "only \(group.name)'s owner (\(group.owner)) may remove someone else; you may leave it yourself")
            }
            try await tx.execute("DELETE FROM groupMember WHERE groupId = ? AND number = ?", [group.id, change.number])
            if group.members.count == 1 {
                try await tx.execute("DELETE FROM chatGroup WHERE id = ?", [group.id])
            } else if change.number == group.owner {
                // The owner left: the longest-standing member would be better; any member keeps it usable.
                let heir = group.members.first { $0 != change.number }!
                try await tx.execute("UPDATE chatGroup SET owner = ? WHERE id = ?", [heir, group.id])
            }
            let updated =
                try await Self.group(group.id, tx) ?? Signaling.Group(id: group.id, name: group.name, owner: group.owner, members: [])
            return GroupChange(group: updated, recipients: Set(group.members), added: [], removed: [change.number])
        }
    }

    /// The groups `number` is a member of, by name.
    func groups(of number: String) async throws(DirectoryError) -> [Signaling.Group] {
        try await read { tx in
            var groups: [Signaling.Group] = []
            for row in try await tx.rows("SELECT groupId FROM groupMember WHERE number = ?", [number]) {
                if let group = try await Self.group(try row.text("groupId"), tx) { groups.append(group) }
            }
            return groups.sorted { ($0.name, $0.id) < ($1.name, $1.id) }
        }
    }

    /// A group `number` belongs to; unknown and not-a-member read the same, so ids of other
    /// people's groups cannot be probed.
    func group(_ id: String, ofMember number: String) async throws(DirectoryError) -> Signaling.Group {
        try await read { tx in try await Self.group(id, ofMember: number, tx) }
    }

    /// Whether `number` is a member of the group `id` now (false for an unknown group): a
    /// join's re-check after its await needs only this, not the group decoded with its vouches.
    func isMember(_ number: String, ofGroup id: String) async throws(DirectoryError) -> Bool {
        try await read { tx in try await tx.exists("SELECT 1 FROM groupMember WHERE groupId = ? AND number = ?", [id, number]) }
    }

    private static func group(_ id: String, ofMember number: String, _ tx: any DatabaseTransaction) async throws -> Signaling.Group {
        guard let group = try await group(id, tx), group.members.contains(number) else { throw DirectoryError.unknownGroup(id) }
        return group
    }

    private static func group(_ id: String, _ tx: any DatabaseTransaction) async throws -> Signaling.Group? {
        guard let row = try await tx.row("SELECT id, name, owner, founding FROM chatGroup WHERE id = ?", [id]) else { return nil }
        let rows = try await tx.rows("SELECT number, vouch FROM groupMember WHERE groupId = ? ORDER BY number", [id])
        let decoder = JSONDecoder()
        var vouches: [String: Signaling.MemberVouch] = [:]
        for member in rows {
            if let text = try member.optionalText("vouch"),
                let vouch = try? decoder.decode(Signaling.MemberVouch.self, from: Data(text.utf8))
            {
                vouches[try member.text("number")] = vouch
            }
        }
        let founding = try row.optionalText("founding").flatMap {
            try? decoder.decode(Signaling.GroupFounding.self, from: Data($0.utf8))
        }
        return Signaling.Group(
            id: try row.text("id"), name: try row.text("name"), owner: try row.text("owner"),
            members: try rows.map { try $0.text("number") }, founding: founding, vouches: founding == nil ? nil : vouches)
    }

    /// A new group's vouches by member, checked for shape: the founder is the owner, and each
    /// vouch names a member and is signed by the founder (the members check the signatures).
    private static func vouches(
        _ request: Signaling.CreateGroup, owner: String,
        members: Set<String>
    ) throws(DirectoryError) -> [String: Signaling.MemberVouch] {
        guard let founding = request.founding else { return [:] }
        guard founding.founder == owner, founding.founderKey.bytes.count == 32, (16...32).contains(founding.nonce.bytes.count) else {
            throw .invalidGroup("a group's founding names its creator, a 32-byte identity key and a 16- to 32-byte nonce")
        }
        var byMember: [String: Signaling.MemberVouch] = [:]
        for vouch in request.vouches ?? [] {
            guard let member = vouch.links.first?.member, members.contains(member), vouch.isWellFormed(for: member),
                vouch.links.last?.by == owner, byMember[member] == nil
            else {
                throw .invalidGroup("each vouch names one member of the new group, once, and is signed by its creator")
            }
            byMember[member] = vouch
        }
        return byMember
    }

    private static func json(_ value: (some Encodable)?) throws(DirectoryError) -> String? {
        guard let value else { return nil }
        do { return String(decoding: try JSONEncoder().encode(value), as: UTF8.self) } catch {
            throw .internalFailure("cannot encode \(type(of: value)): \(error)")
        }
    }
}
