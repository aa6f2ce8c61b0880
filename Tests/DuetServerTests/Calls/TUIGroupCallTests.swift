import DuetServer
import DuetTUI
import Foundation
import Testing

@testable import DuetClient

/// Group calls in the terminal client, driven by key presses against a real server and real
/// tone bots that join the group calls they are rung for.
@Suite("TUI group calls", .serialized)
struct TUIGroupCallTests {
    let helper = TUIControllerTests()

    /// A tone bot: a registered device whose engines answer 1:1 calls and join group calls.
    static func toneBot(_ number: String, name: String, on server: TestServer) async throws -> (CallBot, URL) {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-tui-bot-\(UUID().uuidString)")
        let store = try DeviceStore.open(ProfileLocation(name: name.lowercased(), home: home), passphrase: nil, create: true)
        try store.initializeKeys()
        let session = try await DeviceSession.open(store: store, server: server.address)
        _ = try await session.register(number: number, name: name, invite: nil)
        return (try await ToneBot.start(session: session), home)
    }

    static func log(_ controller: TUIController) async -> String {
        await controller.state.log.map(\.text).joined(separator: "\n")
    }

    /// The group call pane's content and the log, for failure messages.
    static func describe(_ controller: TUIController) async -> String {
        "\(String(describing: await controller.state.groupCall))\n\(await log(controller))"
    }

    @Test func createCallAddRemoveAndLeaveAGroupByKeys() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552501", name: "Alice", on: server)
        let (alto, altoHome) = try await Self.toneBot("+15552502", name: "Alto", on: server)
        let (bass, bassHome) = try await Self.toneBot("+15552503", name: "Bass", on: server)
        // Carol never joins: she is rung, and holds Alice's key while she waits.
        let carol = try await CallTestDevice.make("+15552504", name: "Carol", on: server)
        try await alice.session.addContact(number: "+15552502", name: "Alto")
        try await alice.session.addContact(number: "+15552503", name: "Bass")
        let controller = try TUIController(session: alice.session, engine: alice.engine, profile: "alice", embedded: false)
        await controller.start {}
        let type = { (text: String) in await helper.type(text, into: controller) }
        func waitUntil(_ condition: @Sendable () async -> Bool) async -> Bool { await helper.waitUntil(condition) }
        @Sendable func log() async -> String { await Self.log(controller) }

        // g: the new-group box; a bad number is refused in the box, then the group is made.
        await controller.handle(.character("g"))
        await type("Choir")
        await controller.handle(.enter)
        await type("+15552502 123")
        await controller.handle(.enter)
        guard case let .createGroup(prompt)? = await controller.state.overlay else {
            Issue.record("no new-group box")
            return
        }
        #expect(prompt.error?.contains("123") == true)
        for _ in 0..<4 { await controller.handle(.backspace) }
        await type(" +15552503")
        await controller.handle(.enter)
        #expect(await waitUntil { await controller.state.groups.map(\.name) == ["Choir"] })
        #expect(await controller.state.overlay == nil)
        #expect(await controller.state.selectedGroup?.name == "Choir")

        // c on the group: both bots join, and each is heard by name.
        await controller.handle(.character("c"))
        #expect(await controller.state.pane == .groupCall)
        let heard = await waitUntil {
            let rows = await controller.state.groupCall?.participants ?? []
            return Set(rows.filter(\.heard).compactMap(\.name)) == ["Alto", "Bass"]
        }
        var details = await Self.describe(controller)
        #expect(heard, "the bots were not both heard: \(details)")
        #expect(await controller.state.groupCall?.phase == .connected)
        #expect(await controller.state.groupCall?.epoch != nil)

        // m: muted (the pane says so, the log too), then unmuted; the engine's side is GroupCallMuteTests.
        await controller.handle(.character("m"))
        #expect(await controller.state.groupCall?.muted == true)
        #expect(await log().contains("muted in the group call: sending silence"))
        await controller.handle(.character("m"))
        #expect(await controller.state.groupCall?.muted == false)

        // +: Carol is added; everyone rekeys (member added), and she is invited with the new key.
        await controller.handle(.character("+"))
        await type("+15552504")
        await controller.handle(.enter)
        let added = await waitUntil {
            let invited = await controller.state.groupCall?.invited.contains { $0.number == carol.number && $0.hasKey } == true
            let rekeyed = await log().contains("a member was added")
            return invited && rekeyed
        }
        details = await Self.describe(controller)
        #expect(added, "\(details)")

        // -: Bass is picked from the members and removed; Alice rekeys (member left).
        await controller.handle(.character("-"))
        guard case let .groupMember(removal)? = await controller.state.overlay else {
            Issue.record("no removal box")
            return
        }
        #expect(removal.choices.map(\.number).contains("+15552503"))
        for _ in removal.choices {
            guard case let .groupMember(shown)? = await controller.state.overlay, shown.number != "+15552503" else { break }
            await controller.handle(.down)
        }
        await controller.handle(.enter)
        let removed = await waitUntil {
            let call = await controller.state.groupCall
            let rekeyed = await log().contains("a member left")
            return rekeyed && call?.participants.map(\.number) == ["+15552502"]
                && call?.rekeys == 2
        }
        details = await Self.describe(controller)
        #expect(removed, "\(details)")
        #expect(await controller.state.groupCall?.lastRekeyCause == "a member left")

        // h: the call is left and every key wiped, which the pane and the log say.
        await controller.handle(.character("h"))
        #expect(await waitUntil { await controller.state.groupCall?.keysWiped == true })
        #expect(await controller.state.groupCall?.phase == .ended(reason: nil))
        let finalLog = await log()
        #expect(finalLog.contains("group call keys wiped"))
        #expect(!finalLog.contains("hearing:"), "hearing reports stay out of the log")

        await controller.handle(.character("q"))
        #expect(await controller.quitRequested)
        await alto.stop()
        await bass.stop()
        try? FileManager.default.removeItem(at: altoHome)
        try? FileManager.default.removeItem(at: bassHome)
        await carol.close()
        await alice.close()
        try await server.stop()
    }

    @Test func aRingingGroupCallPopsUpAndIsJoinedByKey() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552511", name: "Alice", on: server)
        let bob = try await GroupTestDevice.make("+15552512", name: "Bob", on: server)
        try await alice.session.addContact(number: bob.number, name: "Bob")
        let controller = try TUIController(session: alice.session, engine: alice.engine, profile: "alice", embedded: false)
        await controller.start {}
        let group = try await bob.session.connection.createGroup(name: "Duo", members: [alice.number])
        _ = try await bob.engine.start(group: group.id)
        let rang = await helper.waitUntil { if case .incomingGroupCall? = await controller.state.overlay { true } else { false } }
        let details = await Self.describe(controller)
        #expect(rang, "\(details)")
        guard case let .incomingGroupCall(ringing)? = await controller.state.overlay else { return }
        #expect(ringing.groupName == "Duo" && ringing.participants == ["Bob (+15552512)"])
        await controller.handle(.character("a"))
        #expect(await controller.state.overlay == nil)
        let heard = await helper.waitUntil { await controller.state.groupCall?.participants.first?.heard == true }
        let after = await Self.describe(controller)
        #expect(heard, "\(after)")
        await controller.quit()
        #expect(await helper.waitUntil { await controller.state.log.contains { $0.text.contains("keys wiped") } })
        await bob.close()
        await alice.close()
        try await server.stop()
    }
}
