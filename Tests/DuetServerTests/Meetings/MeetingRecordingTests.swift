import DuetMedia
import DuetWire
import Foundation
import Testing

@testable import DuetClient
@testable import DuetServer

/// A meeting recorded by the server (docs/recordings.md) over real media: the host speaks alone,
/// then a second participant alone (the host muted); the meeting ends, the recording is
/// finished, and its export — decoded by opusdec — has each voice where it spoke alone.
@Suite("Meeting recordings end to end", .serialized)
struct MeetingRecordingTests {
    typealias Attendee = MeetingMediaTests.Attendee

    @Test func aRecordedMeetingExportsWithEveryVoiceAndNothingReadableAtRest() async throws {
        let server = try await TestServer.start()
        let data = URL(fileURLWithPath: server.dataDirectory)
        let host = try await Attendee.make("+15556401", on: server)
        let guest = try await Attendee.guest(notSoundingLike: "+15556401", on: server)
        let link = try await host.engine.create(open: true, record: true, name: "Host")
        #expect(await eventually { host.events.events.contains(.recording(true)) }, "\(host.events.log)")
        #expect(await eventually { await host.engine.snapshot()?.mediaConnected == true })
        try await Task.sleep(for: .seconds(3))  // the host alone

        try await guest.engine.join(link, name: "Visitor")
        #expect(await eventually { await guest.engine.snapshot()?.mediaConnected == true }, "\(guest.events.log)")
        #expect(guest.events.events.contains(.recording(true)), "REC is shown to a joiner too: \(guest.events.log)")
        await host.engine.setMuted(true)
        try await Task.sleep(for: .seconds(3))  // the guest alone
        let guestID = try #require(await guest.engine.snapshot()?.you)
        await host.engine.leave()  // ends the meeting, and with it the recording
        #expect(await eventually { guest.events.events.contains { if case .ended = $0 { true } else { false } } })

        let vault = try RecordingVault(dataDirectory: data)
        let listed = await eventually { ((try? vault.list()) ?? []).first?.ended != nil }
        #expect(listed, "the recording was not finished")
        let info = try #require(try vault.list().first)
        #expect(info.meetingCode == link.code)
        #expect(Set(info.participants) == ["+15556401", guestID], "\(info.participants)")
        #expect(info.audioSeconds >= 5, "\(info.audioSeconds) s recorded")

        // At rest: neither an Ogg page nor an Opus header, nor the meeting's code.
        let stored = try FileManager.default.contentsOfDirectory(
            at: data.appendingPathComponent("recordings"), includingPropertiesForKeys: nil)
        for file in stored {
            let bytes = try Data(contentsOf: file)
            for marker in ["OggS", "OpusHead", link.code] {
                #expect(bytes.range(of: Data(marker.utf8)) == nil, "\(marker) in \(file.lastPathComponent)")
            }
        }

        let export = data.appendingPathComponent("meeting.opus"), wav = data.appendingPathComponent("meeting.wav")
        try vault.export(try RecordingID(info.id), to: export)
        let opusdec = Process()
        opusdec.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        opusdec.arguments = ["opusdec", "--quiet", "--rate", "48000", export.path, wav.path]
        try opusdec.run()
        opusdec.waitUntilExit()
        try #require(opusdec.terminationStatus == 0, "opusdec refused the export")
        let samples = try WAVFile.read(Array(try Data(contentsOf: wav)))
        // Whom the analyser names, second by second.
        let window = AudioFormat.sampleRate
        let named = stride(from: 0, to: samples.count - window, by: window).map { start in
            VoiceAnalyser(numbers: ["+15556401", guestID]).analyse(Array(samples[start..<start + window])).speaker
        }
        #expect(named.contains(VoiceSignature(number: "+15556401")), "the host is not heard in the recording: \(named)")
        #expect(named.contains(VoiceSignature(number: guestID)), "the guest is not heard in the recording: \(named)")

        for attendee in [host, guest] { await attendee.close() }
        try await server.stop()
    }
}
