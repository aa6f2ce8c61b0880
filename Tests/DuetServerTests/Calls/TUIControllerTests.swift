import DuetServer
import DuetTUI
import Foundation
import Testing

@testable import DuetClient

/// The terminal client's controller driven by key presses against a real server and a real
/// bot: everything the TUI does, without a terminal.
@Suite("TUI controller")
struct TUIControllerTests {
    func waitUntil(_ condition: @Sendable () async -> Bool) async -> Bool {
        for _ in 0..<300 {  // an upper bound of 30 s, not a timing assertion
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func type(_ text: String, into controller: TUIController) async {
        for character in text { await controller.handle(.character(character)) }
    }

    @Test func addVerifyCallMuteAndHangUpByKeys() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552401", name: "Alice", on: server)
        let bot = try await CallTestDevice.make("+15552402", name: "Tone", on: server, options: .autoAnswering)
        let controller = try TUIController(session: alice.session, engine: alice.engine, profile: "alice", embedded: false)
        await controller.start {}

        // a: the add-contact box; a bad number is refused in the box.
        await controller.handle(.character("a"))
        await type("123", into: controller)
        await controller.handle(.enter)
        guard case let .addContact(prompt)? = await controller.state.overlay else {
            Issue.record("no add box")
            return
        }
        #expect(prompt.error != nil && prompt.field == .number)
        for _ in 0..<3 { await controller.handle(.backspace) }
        await type("+15552402", into: controller)
        await controller.handle(.enter)
        await type("Tone", into: controller)
        await controller.handle(.enter)
        #expect(await waitUntil { await controller.state.contacts.contains { $0.number == "+15552402" } })
        #expect(await controller.state.overlay == nil)
        #expect(await controller.state.selectedContact?.name == "Tone")

        // s then v: the safety number, verified.
        await controller.handle(.character("s"))
        #expect(await waitUntil { await controller.state.pane == .safetyNumber })
        #expect(await controller.state.safetyNumber?.groups.count == 12)
        await controller.handle(.character("v"))
        #expect(await waitUntil { if case .verified = await controller.state.selectedContact?.trust { true } else { false } })

        // c: a call that connects and hears the bot; m mutes; h hangs up and keys are wiped.
        await controller.handle(.character("c"))
        #expect(await controller.state.pane == .call)
        #expect(await waitUntil { await controller.state.call?.hearing?.speaker?.contains("+15552402") == true })
        #expect(await controller.state.call?.sas?.split(separator: " ").count == 4)
        await controller.handle(.character("m"))
        #expect(await controller.state.call?.muted == true)
        await controller.handle(.character("h"))
        #expect(await waitUntil { await controller.state.call?.keysWiped == true })
        #expect(await controller.state.call?.state == .ended(.hungUp))
        #expect(await controller.state.log.contains { $0.text.contains("keys wiped") })

        // d then y: removed.
        await controller.handle(.escape)
        await controller.handle(.character("d"))
        await controller.handle(.character("y"))
        #expect(await waitUntil { await controller.state.contacts.isEmpty })

        // q ends the application.
        await controller.handle(.character("q"))
        #expect(await controller.quitRequested)
        await bot.close()
        await alice.close()
        try await server.stop()
    }

    @Test func anIncomingCallPopsUpAndIsAcceptedByKey() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552411", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552412", name: "Bob", on: server)
        let controller = try TUIController(session: bob.session, engine: bob.engine, profile: "bob", embedded: false)
        await controller.start {}
        try await alice.engine.place(to: bob.number)
        #expect(await waitUntil { if case .incoming? = await controller.state.overlay { true } else { false } })
        await controller.handle(.character("a"))
        #expect(await waitUntil { await controller.state.call?.state == .connected(.p2p) })
        #expect(await controller.state.overlay == nil)
        await alice.engine.hangUp()
        #expect(await waitUntil { await controller.state.call?.state == .ended(.hungUpByPeer) })
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    @Test func callingAContactWhoseKeyChangedAsksFirst() async throws {
        let server = try await TestServer.start(openRegistration: true)
        let alice = try await CallTestDevice.make("+15552421", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552422", name: "Bob", on: server)
        try await alice.addContact(bob, name: "Bob")
        await bob.close()
        let newBob = try await CallTestDevice.make(bob.number, name: "Bob", on: server)
        let controller = try TUIController(session: alice.session, engine: alice.engine, profile: "alice", embedded: false)
        await controller.start {}
        // The server tells Alice about the new key; the contact list shows it.
        #expect(
            await waitUntil {
                await controller.tick()
                return await controller.state.selectedContact?.trust.isKeyChanged == true
            })
        await controller.handle(.character("c"))
        guard case .keyChangedWarning? = await controller.state.overlay else {
            Issue.record("no warning before ringing")
            return
        }
        #expect(!newBob.events.events.contains { if case .incoming = $0 { true } else { false } })
        await controller.handle(.escape)
        #expect(await controller.state.overlay == nil)
        await alice.close()
        await newBob.close()
        try await server.stop()
    }
}

extension TUIControllerTests {
    @Test func groupsAppearUnderTheContactsWithTheirMembers() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552431", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552432", name: "Bob", on: server)
        try await alice.addContact(bob, name: "Bob")
        let controller = try TUIController(session: alice.session, engine: alice.engine, profile: "alice", embedded: false)
        await controller.start {}
        _ = try await bob.session.connection.createGroup(name: "Team", members: [alice.number])
        #expect(
            await waitUntil {
                await controller.tick()
                return await controller.state.groups.map(\.name) == ["Team"]
            })
        #expect(await controller.state.groups.first?.members == ["you (+15552431)", "Bob (+15552432)"])
        await controller.handle(.down)  // past Bob, onto the group
        #expect(await controller.state.selectedGroup?.name == "Team")
        try await Task.sleep(for: .milliseconds(3200))
        await controller.tick()  // contacts reload every 3 s: the highlight stays on the group
        #expect(await controller.state.selectedGroup?.name == "Team")
        // c on the group starts its call; Bob, rung and not joining, is invited and holds the key.
        await controller.handle(.character("c"))
        #expect(await controller.state.pane == .groupCall)
        #expect(await controller.state.call == nil)
        let invited = await waitUntil {
            await controller.state.groupCall?.invited == [GroupInvitedRow(number: bob.number, name: "Bob", hasKey: true)]
        }
        let shown = await controller.state.groupCall
        #expect(invited, "\(String(describing: shown))")
        await controller.handle(.character("h"))
        #expect(await waitUntil { await controller.state.groupCall?.keysWiped == true })
        await alice.close()
        await bob.close()
        try await server.stop()
    }
}

extension ContactTrust {
    var isKeyChanged: Bool { if case .keyChanged = self { true } else { false } }
}
