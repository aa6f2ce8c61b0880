import DuetServer
import DuetWire
import Foundation
import Testing

@testable import DuetClient

/// A meeting device that loses the server (docs/meetings.md "Losing the server"): the server takes it out of the
/// meeting when its connection closes, so once signaling is back it knocks again with the same
/// link — back in an open meeting with a new leg, or told plainly that the meeting is gone.
@Suite("Meetings across a lost server", .serialized)
struct MeetingReconnectTests {
    typealias Attendee = MeetingMediaTests.Attendee

    static func isLeft(_ event: MeetingEngineEvent, _ id: String) -> Bool {
        if case let .left(person) = event { person.id == id } else { false }
    }
    static func isJoined(_ event: MeetingEngineEvent, _ id: String) -> Bool {
        if case let .joined(person) = event { person.id == id } else { false }
    }

    @Test func aGuestWhoseConnectionDropsKnocksAgainAndIsHeardAgain() async throws {
        let server = try await TestServer.start()
        let host = try await Attendee.make("+15556501", on: server)
        let guest = try await Attendee.make(nil, on: server)
        let link = try await host.engine.create(open: true, record: false, name: "Host")
        try await guest.engine.join(link, name: "Visitor")
        #expect(await eventually { await guest.engine.snapshot()?.mediaConnected == true }, "\(guest.events.log)")
        let guestID = try #require(await guest.engine.snapshot()?.you)
        for (attendee, other) in [(host, guestID), (guest, "+15556501")] {
            let heard = await eventually(timeout: .seconds(30)) { await MeetingMediaTests.hears(attendee, [other]) }
            #expect(heard, "\(attendee.events.log)")
        }
        let ssrcBefore = await host.engine.snapshot()?.meeting?.participants.first { $0.id == guestID }?.ssrc

        await guest.session.connection.dropForTesting()
        // The host sees the guest go and come back under the same id, with a new SSRC.
        let back = await eventually(timeout: .seconds(30)) {
            let events = host.events.events
            guard let left = events.firstIndex(where: { Self.isLeft($0, guestID) }) else { return false }
            return events[left...].contains { Self.isJoined($0, guestID) }
        }
        #expect(back, "the guest did not leave and come back:\n\(host.events.log)")
        let warning = MeetingEngineEvent.notice(.warning(.server, "lost the server; knocking at \(link.code) again"))
        #expect(guest.events.events.contains(warning), "\(guest.events.log)")
        let reconnected = await eventually(timeout: .seconds(30)) {
            guard let lost = guest.events.events.firstIndex(of: warning) else { return false }
            return guest.events.events[lost...].contains(.mediaConnected(route: "udp"))
        }
        #expect(reconnected, "no new leg after the drop:\n\(guest.events.log)")
        let ssrcAfter = await host.engine.snapshot()?.meeting?.participants.first { $0.id == guestID }?.ssrc
        #expect(ssrcAfter != nil && ssrcAfter != ssrcBefore)

        // Both hear each other again, through the guest's new leg.
        for (attendee, other) in [(host, guestID), (guest, "+15556501")] {
            let heard = await eventually(timeout: .seconds(30)) { await MeetingMediaTests.hears(attendee, [other]) }
            #expect(heard, "\(attendee.events.log)")
        }
        #expect(!guest.events.events.contains { if case .ended = $0 { true } else { false } }, "\(guest.events.log)")
        for attendee in [host, guest] { await attendee.close() }
        try await server.stop()
    }

    @Test func aMeetingGoneWithARestartedServerEndsSayingSo() async throws {
        let first = try await TestServer.start()
        let signaling = first.address, media = first.app.mediaAddress
        let host = try await Attendee.make("+15556511", on: first)
        let bob = try await Attendee.make("+15556512", on: first)
        let link = try await host.engine.create(open: true, record: false, name: "Host")
        try await bob.engine.join(link, name: nil)
        for attendee in [host, bob] {
            #expect(await eventually { await attendee.engine.snapshot()?.mediaConnected == true }, "\(attendee.events.log)")
        }

        try await first.stop(keepingData: true)
        let second = try await TestServer.start(dataDirectory: first.dataDirectory, signaling: signaling, media: media)
        for attendee in [host, bob] {
            _ = await eventually(timeout: .seconds(45)) { attendee.events.events.contains { if case .ended = $0 { true } else { false } } }
            guard
                let reason = attendee.events.events.lazy.compactMap({ if case let .ended(ending) = $0 { ending.description } else { nil } })
                    .first
            else {
                Issue.record("the meeting did not end: \(attendee.events.log)")
                continue
            }
            #expect(reason.hasPrefix("could not get back in after losing the server"), "\(reason)")
            #expect(attendee.events.events.contains(.keysWiped))
            #expect(await attendee.engine.snapshot() == nil)
        }
        for attendee in [host, bob] { await attendee.close() }
        try await second.stop()
    }
}
