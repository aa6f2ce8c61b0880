import DuetServer
import DuetWire
import Foundation
import Testing

@testable import DuetClient

/// Who may hold a group call's sender keys, when the server lies about who is in the group
/// (docs/SECURITY.md, "Group membership"). The server is the real one; its lies are edits of its
/// SQLite file while it runs (`TamperedDirectory`), so the devices see what a lying server shows.
@Suite("Security: signed group membership", .serialized)
struct GroupMembershipTests {
    /// The server slips two numbers into Alice's group: Trudy with no vouch, and Mallory with a
    /// vouch that claims Alice added her, signed with Mallory's own key. Mallory joins the call
    /// like any member. Neither is given Alice's sender key — Alice says so — while Carol, whom
    /// Alice added, is given it and hears her.
    @Test func aMemberTheServerAddsGetsNoSenderKey() async throws {
        let server = try await TestServer.start()
        let alice = try await GroupTestDevice.make("+15552411", name: "Alice", on: server)
        let carol = try await GroupTestDevice.make("+15552412", name: "Carol", on: server)
        let mallory = try await GroupTestDevice.make("+15552413", name: "Mallory", on: server)
        let trudy = try await GroupTestDevice.make("+15552414", name: "Trudy", on: server)
        let group = try await alice.session.connection.createGroup(name: "Pair", members: [carol.number])
        let founding = try #require(group.founding)
        let aliceOwn = try #require(group.vouches[alice.number]?.links.last)
        let mallorysKey = try mallory.session.store.identity()
        let forged = Signaling.MemberVouch(links: [
            GroupVouches.link(founding, member: mallory.number, memberKey: mallorysKey.publicKey, by: alice.number, signer: mallorysKey),
            aliceOwn
        ])
        let tampered = try TamperedDirectory(server)
        try tampered.insertGroupMember(
            mallory.number, into: group.id, vouch: String(decoding: try JSONEncoder().encode(forged), as: UTF8.self))
        try tampered.insertGroupMember(trudy.number, into: group.id)

        let info = try await alice.engine.start(group: group.id, callID: "ghost-members")
        #expect(
            Set(info.group.members) == [alice.number, carol.number, mallory.number, trudy.number], "the server shows its ghosts as members")
        _ = try await carol.engine.join(callID: info.callID)
        _ = try await mallory.engine.join(callID: info.callID)

        #expect(await eventually { await GroupCallTests.hears(carol, [alice]) }, "carol:\n\(carol.events.log)")
        for ghost in [mallory.number, trudy.number] {
            let warned = await eventually {
                alice.events.events.contains(.notice(.warning(.keyWithheld(member: ghost), GroupCallEngine.unvouchedWithheld(ghost))))
            }
            #expect(warned, "alice:\n\(alice.events.log)")
        }
        let snapshot = try #require(await alice.engine.snapshot())
        #expect(snapshot.keyGiven[mallory.number] == nil && snapshot.keyGiven[trudy.number] == nil)
        #expect(snapshot.keyGiven[carol.number] != nil)
        #expect(
            !mallory.events.events.contains { if case .keyReceived(from: alice.number, _) = $0 { true } else { false } },
            "mallory:\n\(mallory.events.log)")
        for device in [alice, carol, mallory, trudy] { await device.close() }
        try await server.stop()
    }

    /// Dave is not Alice's contact, so no key change is recorded for him; the server then hands
    /// out an impostor's bundle as his. Alice vouched for Dave's real key when she added him,
    /// so the impostor's bundle is not his and gets no key.
    @Test func aSwappedBundleOfAMemberWhoIsNoContactGetsNoSenderKey() async throws {
        let server = try await TestServer.start()
        let alice = try await GroupTestDevice.make("+15552421", name: "Alice", on: server)
        let carol = try await GroupTestDevice.make("+15552422", name: "Carol", on: server)
        let dave = try await GroupTestDevice.make("+15552423", name: "Dave", on: server)
        let group = try await alice.session.connection.createGroup(name: "Trio", members: [carol.number, dave.number])
        try TamperedDirectory(server).replaceBundle(of: dave.number, with: TestDevice(oneTimePrekeyCount: 5))

        let info = try await alice.engine.start(group: group.id, callID: "swapped-stranger")
        _ = try await carol.engine.join(callID: info.callID)
        #expect(await eventually { await GroupCallTests.hears(carol, [alice]) }, "carol:\n\(carol.events.log)")
        let warned = await eventually {
            alice.events.events.contains(
                .notice(.warning(.keyWithheld(member: dave.number), GroupCallEngine.keyNotVouchedWithheld(dave.number))))
        }
        #expect(warned, "alice:\n\(alice.events.log)")
        #expect(try #require(await alice.engine.snapshot()).keyGiven[dave.number] == nil)
        for device in [alice, carol, dave] { await device.close() }
        try await server.stop()
    }

    /// After a first call has pinned the group's founding on Alice's device, the server shows the
    /// group under a founding of its own (where it could vouch for anyone). Alice gives nobody
    /// her key in the next call, and says why.
    @Test func aGroupShownUnderAnotherFoundingGetsNoSenderKey() async throws {
        let server = try await TestServer.start()
        let alice = try await GroupTestDevice.make("+15552431", name: "Alice", on: server)
        let carol = try await GroupTestDevice.make("+15552432", name: "Carol", on: server)
        let group = try await alice.session.connection.createGroup(name: "Pair", members: [carol.number])
        let first = try await alice.engine.start(group: group.id, callID: "pinned-founding")
        #expect(await eventually { (await alice.engine.snapshot())?.keyGiven[carol.number] != nil })
        await alice.engine.leave()
        _ = first

        let rogue = GroupVouches.founding(founder: alice.number, key: TestDevice(oneTimePrekeyCount: 0).identity.publicKey)
        try TamperedDirectory(server).replaceFounding(of: group.id, with: String(decoding: try JSONEncoder().encode(rogue), as: UTF8.self))
        _ = try await alice.engine.start(group: group.id, callID: "rogue-founding")
        let warned = await eventually {
            alice.events.events.contains(.notice(.warning(.group, GroupCallEngine.foundingChanged(group.name))))
        }
        #expect(warned, "alice:\n\(alice.events.log)")
        #expect(try #require(await alice.engine.snapshot()).keyGiven.isEmpty)
        for device in [alice, carol] { await device.close() }
        try await server.stop()
    }
}
