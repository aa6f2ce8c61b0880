import DuetServer
import DuetTUI
import DuetWire
import Foundation
import Testing

@testable import DuetClient

/// Meetings in the terminal client, driven by key presses against a real server, with the
/// other side a real `MeetingEngine` (a guest, or a registered device).
@Suite("TUI meetings", .serialized)
struct TUIMeetingTests {
    let helper = TUIControllerTests()
    typealias Attendee = MeetingMediaTests.Attendee

    static func describe(_ controller: TUIController) async -> String {
        let state = await controller.state
        return "\(String(describing: state.meeting))\noverlay: \(String(describing: state.overlay))\n"
            + state.log.map(\.text).joined(separator: "\n")
    }

    @Test func theHostMakesAMeetingAdmitsAGuestRecordsAndLeaves() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552601", name: "Alice", on: server)
        let guest = try await Attendee.make(nil, on: server)
        let controller = try TUIController(session: alice.session, engine: alice.engine, profile: "alice", embedded: false)
        await controller.start {}
        func waitUntil(_ condition: @Sendable () async -> Bool) async -> Bool { await helper.waitUntil(condition) }

        // n: the box; o switches open on and off again, Enter makes a knock-first meeting.
        await controller.handle(.character("n"))
        await controller.handle(.character("o"))
        await controller.handle(.character("o"))
        #expect(await controller.state.overlay == .createMeeting(CreateMeetingPrompt(open: false, record: false)))
        await controller.handle(.enter)
        #expect(await controller.state.pane == .meeting)
        #expect(await waitUntil { await controller.state.meeting?.phase == .connected })
        let shown = try #require(await controller.state.meeting?.link)
        let link = try MeetingLink(parsing: shown)
        #expect(link.server == server.address)
        #expect(await controller.state.meeting?.isHost == true)

        // A guest knocks: the box says who, and a lets them in.
        let entry = try await guest.engine.join(link, name: "Frank")
        #expect(entry == .waiting(code: link.code))
        let knocked = await waitUntil { if case .knock? = await controller.state.overlay { true } else { false } }
        var details = await Self.describe(controller)
        #expect(knocked, "\(details)")
        guard case let .knock(prompt)? = await controller.state.overlay else { return }
        #expect(prompt.knocker.name == "Frank" && prompt.knocker.guest)
        await controller.handle(.character("a"))
        #expect(await controller.state.overlay == nil)

        // Inside, each hears the other; the pane marks the guest.
        let heard = await waitUntil {
            await controller.state.meeting?.participants.first { $0.name == "Frank" && $0.guest }?.heard == true
        }
        details = await Self.describe(controller)
        #expect(heard, "the guest was not heard: \(details)")
        #expect(await waitUntil { await MeetingMediaTests.hears(guest, ["+15552601"]) }, "\(guest.events.log)")

        // m: the host mutes — the pane says so and the guest stops hearing the host — and unmutes.
        await controller.handle(.character("m"))
        #expect(await controller.state.meeting?.muted == true)
        #expect(await waitUntil { await !MeetingMediaTests.hears(guest, ["+15552601"]) }, "\(guest.events.log)")
        await controller.handle(.character("m"))
        #expect(await controller.state.meeting?.muted == false)
        #expect(await waitUntil { await MeetingMediaTests.hears(guest, ["+15552601"]) }, "\(guest.events.log)")

        // R: the server records; REC is in the host's state and the guest's view.
        await controller.handle(.character("R"))
        #expect(await waitUntil { await controller.state.meeting?.recording == true })
        #expect(await waitUntil { await guest.engine.snapshot()?.meeting?.recording == true })
        await controller.handle(.character("R"))
        #expect(await waitUntil { await controller.state.meeting?.recording == false })

        // h: the host leaves, the meeting ends for the guest too, keys wiped.
        await controller.handle(.character("h"))
        #expect(await waitUntil { await controller.state.meeting?.keysWiped == true })
        #expect(await controller.state.meeting?.phase == .ended(reason: "left the meeting"))
        #expect(await waitUntil { await guest.engine.snapshot() == nil })
        #expect(guest.events.log.contains("the host left"), "\(guest.events.log)")
        let log = await controller.state.log.map(\.text).joined(separator: "\n")
        #expect(log.contains("letting Frank (guest) in") && log.contains("REC:") && log.contains("meeting keys wiped"), "\(log)")
        #expect(!log.contains("hearing:"), "hearing reports stay out of the log")
        #expect(!log.lowercased().contains("end-to-end") && !log.lowercased().contains("end to end"))

        await controller.handle(.character("q"))
        #expect(await controller.quitRequested)
        await guest.close()
        await alice.close()
        try await server.stop()
    }

    @Test func aPastedLinkKnocksWaitsAndSaysWhyItEnded() async throws {
        let server = try await TestServer.start()
        let bob = try await CallTestDevice.make("+15552611", name: "Bob", on: server)
        let host = try await Attendee.make("+15552612", on: server)
        let controller = try TUIController(session: bob.session, engine: bob.engine, profile: "bob", embedded: false)
        await controller.start {}
        let type = { (text: String) in await helper.type(text, into: controller) }
        func waitUntil(_ condition: @Sendable () async -> Bool) async -> Bool { await helper.waitUntil(condition) }

        // J: not a link, then another server's link, are refused in the box with what to do.
        await controller.handle(.character("J"))
        await type("duet://nowhere")
        await controller.handle(.enter)
        guard case let .joinMeeting(bad)? = await controller.state.overlay else {
            Issue.record("no join box")
            return
        }
        #expect(bad.error?.contains("duet://HOST:PORT/abc-defg-hij") == true)
        for _ in 0..<14 { await controller.handle(.backspace) }
        await type("duet://elsewhere.example:7443/abc-defg-hij")
        await controller.handle(.enter)
        guard case let .joinMeeting(elsewhere)? = await controller.state.overlay else {
            Issue.record("no join box")
            return
        }
        #expect(elsewhere.error?.contains("your own server") == true, "\(String(describing: elsewhere.error))")

        // A real link: Bob waits until the host denies him, and the pane says so.
        let first = try await host.engine.create(open: false, record: false, name: "Host")
        for _ in 0..<60 { await controller.handle(.backspace) }
        await type(first.description)
        await controller.handle(.enter)
        #expect(await controller.state.overlay == nil)
        #expect(await waitUntil { await controller.state.meeting?.phase == .waiting })
        #expect(await waitUntil { await host.engine.snapshot()?.meeting?.knocking.count == 1 })
        try await host.engine.admit("+15552611", false)
        #expect(await waitUntil { if case .ended? = await controller.state.meeting?.phase { true } else { false } })
        var details = await Self.describe(controller)
        #expect(
            await controller.state.meeting?.phase
                == .ended(reason: "not admitted: there is no such meeting, or its host did not let you in"),
            "\(details)")

        // Again, admitted this time: the host heard, then the host leaves and the reason shows.
        await host.engine.leave()
        let second = try await host.engine.create(open: false, record: false, name: "Host")
        await controller.handle(.character("J"))
        await type(second.description)
        await controller.handle(.enter)
        #expect(await waitUntil { await host.engine.snapshot()?.meeting?.knocking.count == 1 })
        try await host.engine.admit("+15552611", true)
        let heard = await waitUntil { await controller.state.meeting?.participants.first?.heard == true }
        details = await Self.describe(controller)
        #expect(heard, "\(details)")
        #expect(await controller.state.meeting?.participants.first?.isHost == true)
        try await host.engine.record(true)
        #expect(await waitUntil { await controller.state.meeting?.recording == true })
        await host.engine.leave()
        let hostLeft = await waitUntil { await controller.state.meeting?.phase == .ended(reason: "the host left, which ends the meeting") }
        details = await Self.describe(controller)
        #expect(hostLeft, "\(details)")
        #expect(await controller.state.meeting?.recording == false)

        await controller.quit()
        await host.close()
        await bob.close()
        try await server.stop()
    }
}
