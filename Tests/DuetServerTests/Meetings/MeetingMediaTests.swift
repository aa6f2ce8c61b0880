import DuetMedia
import DuetWire
import Foundation
import Synchronization
import Testing

@testable import DuetClient
@testable import DuetServer

/// Meetings with media (docs/meetings.md "Media"): devices and a guest on DTLS-SRTP legs to the server,
/// each hearing the others' voices; the host's leaving ends it for all.
@Suite("Meetings with media", .serialized)
struct MeetingMediaTests {
    /// A meeting device: its own store and session (registered or a guest) and engine.
    struct Attendee {
        let session: DeviceSession
        let engine: MeetingEngine
        let events: Recorder
        let home: URL

        static func make(_ number: String?, on server: TestServer) async throws -> Attendee {
            let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-meeting-\(UUID().uuidString)")
            let store = try DeviceStore.open(ProfileLocation(name: "device", home: home), passphrase: nil, create: true)
            try store.initializeKeys()
            let session = try await DeviceSession.open(store: store, server: server.address)
            if let number { _ = try await session.register(number: number, name: nil, invite: nil) }
            let engine = try MeetingEngine(session: session)
            return Attendee(session: session, engine: engine, events: Recorder(engine.events), home: home)
        }

        /// A guest whose voice does not sound like `number`'s: a guest's voice comes from its id,
        /// which comes from its random key, and one in sixteen would share the voice's pitch slot,
        /// so a mix of the two could not be told apart by ear (or by `VoiceAnalyser`).
        static func guest(notSoundingLike number: String, on server: TestServer) async throws -> Attendee {
            while true {
                let guest = try await make(nil, on: server)
                let id = MeetingSignaling.guestID(for: try guest.session.store.identityPublicKey())
                if !VoiceSignature(number: id).soundsLike(VoiceSignature(number: number)) { return guest }
                await guest.close()
            }
        }

        func close() async {
            await engine.close()
            await session.close()
            try? FileManager.default.removeItem(at: home)
        }
    }

    final class Recorder: Sendable {
        private let recorded = Mutex<[MeetingEngineEvent]>([])
        init(_ stream: AsyncStream<MeetingEngineEvent>) {
            Task { [weak self] in for await event in stream { self?.recorded.withLock { $0.append(event) } } }
        }
        var events: [MeetingEngineEvent] { recorded.withLock { $0 } }
        var log: String { events.filter { if case .hearing = $0 { false } else { true } }.map(\.description).joined(separator: "\n") }
    }

    /// True when `attendee` hears every one of `ids` by voice.
    static func hears(_ attendee: Attendee, _ ids: [String]) async -> Bool {
        guard let snapshot = await attendee.engine.snapshot() else { return false }
        return ids.allSatisfy { snapshot.hearing[$0]?.heard == true }
    }

    @Test func threeDevicesAndAGuestHearEachOtherUntilTheHostLeaves() async throws {
        let server = try await TestServer.start()
        let host = try await Attendee.make("+15556101", on: server)
        let others = [
            try await Attendee.make("+15556102", on: server), try await Attendee.make("+15556103", on: server),
            try await Attendee.make(nil, on: server)
        ]
        let link = try await host.engine.create(open: false, record: false, name: "Host")
        #expect(link.server == server.address)

        for (index, attendee) in others.enumerated() {
            let entry = try await attendee.engine.join(link, name: index == 2 ? "Guest" : nil)
            #expect(entry == .waiting(code: link.code))
        }
        // The host admits everyone who knocks.
        let everyoneKnocked = await eventually { (await host.engine.snapshot()?.meeting?.knocking.count ?? 0) == 3 }
        #expect(everyoneKnocked, "\(host.events.log)")
        for person in await host.engine.snapshot()?.meeting?.knocking ?? [] { try await host.engine.admit(person.id, true) }

        var ids: [String] = []
        for attendee in [host] + others {
            let inside = await eventually { await attendee.engine.snapshot()?.mediaConnected == true }
            #expect(inside, "\(attendee.events.log)")
            if let id = await attendee.engine.snapshot()?.you { ids.append(id) }
        }
        #expect(ids.count == 4 && ids.contains { $0.hasPrefix("guest-") })
        for (attendee, id) in zip([host] + others, ids) {
            let heard = await eventually(timeout: .seconds(60)) { await Self.hears(attendee, ids.filter { $0 != id }) }
            let state = await attendee.engine.snapshot()?.hearing
            #expect(heard, "\(id) does not hear everyone: \(String(describing: state))\n\(attendee.events.log)")
        }
        // No end-to-end claim anywhere: the media line says the server can access the meeting.
        #expect(host.events.events.contains(.mediaConnected(route: "udp")))
        #expect(MeetingEngineEvent.mediaConnected(route: "udp").description.contains("cloud-encrypted: the server can access this meeting"))

        await host.engine.leave()
        for attendee in others {
            let ended = await eventually { attendee.events.events.contains(.ended(.closed(MeetingSignaling.hostLeftReason))) }
            #expect(ended, "\(attendee.events.log)")
            #expect(attendee.events.events.contains(.keysWiped))
            #expect(await attendee.engine.snapshot() == nil)
        }
        for attendee in [host] + others { await attendee.close() }
        try await server.stop()
    }
}
