import DuetWire
import Foundation
import Synchronization
import Testing

@testable import DuetClient
@testable import DuetServer

/// A member of one kind of room cannot reach into another: the SFU's rooms of group calls and of
/// meetings are apart, whatever a call is named (docs/SECURITY.md "A member of a group").
@Suite("Security: rooms of one kind cannot name another's", .serialized)
struct RoomIsolationTests {
    /// The attack the review found: a registered user makes a one-person group and starts a
    /// group call named after a meeting's SFU room ("meeting-<code>"). When rooms were found by
    /// that one string, the leg joined the meeting's room unseen: it received every
    /// participant's audio (plain Opus — meetings are cloud-encrypted, not SFrame'd) and its
    /// frames went to them and into the recording. Now it is a group call of that name, alone.
    @Test func aGroupCallNamedAfterAMeetingHearsNothingOfItAndReachesNobodyInIt() async throws {
        let routed = Mutex<[(room: SFURoomID, participant: String)]>([])
        let witness = MediaWitness(
            relayed: { _ in }, routed: { room, participant, _ in routed.withLock { $0.append((room, participant)) } })
        let server = try await TestServer.start(mediaWitness: witness)
        let host = try await MeetingMediaTests.Attendee.make("+15556201", on: server)
        let member = try await MeetingMediaTests.Attendee.make("+15556202", on: server)
        let link = try await host.engine.create(open: true, record: false, name: "Host")
        _ = try await member.engine.join(link, name: nil)
        #expect(await eventually(timeout: .seconds(20)) { await MeetingMediaTests.hears(host, ["+15556202"]) }, "host: \(host.events.log)")

        let mallory = try await GroupTestDevice.make("+15556203", name: "Mallory", on: server)
        let solo = try await mallory.session.connection.createGroup(name: "Solo", members: [])
        _ = try await mallory.engine.start(group: solo.id, callID: "meeting-\(link.code)")
        #expect(await eventually(timeout: .seconds(10)) { await mallory.engine.snapshot()?.mediaConnected == true })
        #expect(
            await eventually(timeout: .seconds(10)) { routed.withLock { $0.contains { $0.participant == "+15556203" } } },
            "mallory's frames never reached the SFU")
        try await Task.sleep(for: .seconds(2))

        // Nothing of the meeting reached her leg: every frame from the SFU would have failed
        // to open as SFrame (a meeting's frames are plain Opus).
        #expect(await mallory.engine.snapshot()?.undecryptable == 0, "mallory received the meeting's frames")
        // Her frames were routed in a group call's room of that name, never in the meeting's.
        let hers = routed.withLock { $0.filter { $0.participant == "+15556203" }.map(\.room) }
        #expect(!hers.isEmpty && hers.allSatisfy { $0 == .groupCall("meeting-\(link.code)") }, "\(Set(hers))")
        #expect(!routed.withLock { $0.contains { $0.room == .meeting(code: link.code) && $0.participant == "+15556203" } })

        await mallory.close()
        await member.close()
        await host.close()
        try await server.stop()
    }
}
