import DuetWire
import Foundation
import Testing

@testable import DuetServer

/// The membership check a group-call join makes again after its await (`GroupCallSignaling`):
/// a removal that ran meanwhile must undo the join. It reads the one membership row instead of
/// decoding the whole group with its vouches (docs/performance.md, "Group settle"), so it must
/// answer as the full read did — a member yes; someone removed, never a member, or of an
/// unknown or emptied group no.
@Suite("Directory: group membership check")
struct GroupMembershipCheckTests {
    @Test(arguments: DirectoryEngine.allCases)
    func aMemberIsOneUntilRemovedAndNobodyIsOneOfAGroupThatIsGone(engine: DirectoryEngine) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("duet-membership-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (store, database) = try await engine.makeStore(in: folder)
        defer { database?.drop() }
        let numbers = ["+15552950", "+15552951", "+15552952", "+15552953"]
        try await store.write { tx in
            for (index, number) in numbers.enumerated() {
                try await tx.execute(
                    "INSERT INTO account (number, identityKey, updatedAt) VALUES (?, ?, 0)",
                    [number, [UInt8](repeating: UInt8(index + 1), count: 32)])
            }
        }
        let directory = Directory(
            store: store, openRegistration: false, health: StorageHealth(directory: folder.path, logger: CapturedLog().logger))
        let (owner, member, outsider) = (numbers[0], numbers[1], numbers[3])
        let group = try await directory.createGroup(.init(name: "Team", members: [member, numbers[2]]), by: owner).group

        #expect(try await directory.isMember(member, ofGroup: group.id))
        #expect(try await directory.isMember(owner, ofGroup: group.id))
        #expect(try await !directory.isMember(outsider, ofGroup: group.id))
        #expect(try await !directory.isMember(member, ofGroup: "gffffffff"))

        _ = try await directory.removeGroupMember(.init(group: group.id, number: member), by: owner)
        #expect(try await !directory.isMember(member, ofGroup: group.id), "a removal undoes a join that raced it")
        for number in [numbers[2], owner] { _ = try await directory.removeGroupMember(.init(group: group.id, number: number), by: number) }
        #expect(try await !directory.isMember(owner, ofGroup: group.id), "the last one out took the group with them")
        await store.close()
    }
}
