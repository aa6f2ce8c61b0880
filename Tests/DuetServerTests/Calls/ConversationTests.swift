import DuetServer
import DuetWire
import Foundation
import Testing

@testable import DuetClient

/// "One call at a time" is the device session's to decide (`Conversation`), whichever engine
/// asks: a device in a meeting places no call and starts no group call; an incoming call it
/// accepts anyway is declined, so the caller hears busy; once it left, all of them work.
@Suite("One conversation per device", .serialized)
struct ConversationTests {
    @Test func aDeviceInAMeetingStartsNoOtherConversationUntilItLeaves() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15558101", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15558102", name: "Bob", on: server)
        let meetings = try MeetingEngine(session: alice.session)
        let groups = try GroupCallEngine(session: alice.session)
        let group = try await alice.session.connection.createGroup(name: "Pair", members: [bob.number])

        _ = try await meetings.create(open: true, record: false, name: nil)
        let meeting = await alice.session.conversation
        #expect({ if case .meeting = meeting { true } else { false } }(), "\(meeting)")
        await #expect(throws: CallError.busy) { try await alice.engine.place(to: bob.number) }
        await #expect(throws: ConversationError.busy(meeting)) { _ = try await groups.start(group: group.id) }

        // Bob rings Alice in her meeting: accepting it is refused, and Bob hears busy.
        try await bob.engine.place(to: alice.number)
        #expect(await alice.events.waitFor { if case .incoming = $0 { true } else { false } } != nil)
        await alice.engine.accept()
        #expect(await bob.events.waitForEnd() == .declined, "\(bob.events.log)")
        #expect(await alice.session.conversation == meeting)

        await meetings.leave()
        #expect(await alice.session.conversation == .none, "free as soon as leave returns")
        try await alice.engine.place(to: bob.number)
        let claimed = await alice.session.conversation
        #expect({ if case .call = claimed { true } else { false } }(), "placing the call claims the device: \(claimed)")
        await alice.engine.hangUp()
        #expect(await eventually { await alice.session.conversation == .none }, "the call gave the device back")
        await groups.close()
        await meetings.close()
        await alice.close()
        await bob.close()
        try await server.stop()
    }
}
