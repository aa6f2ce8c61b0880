import DiskFaults
import DuetMedia
import Foundation
import Testing

@testable import DuetClient
@testable import DuetServer

/// The disk fills while a meeting is recorded: the recorder's write fails with ENOSPC, the
/// recording stops on its last whole chunk, everyone in the meeting is told, the meeting goes
/// on, and what was written exports — incomplete, decoding to exactly the packets on the whole
/// Ogg pages of the whole chunks written before the disk filled.
@Suite(
    "Disk full: recordings", .serialized,
    .enabled(if: TmpfsMount.isAvailable, "mounts a tmpfs to fill: needs root or CAP_SYS_ADMIN; skipped where mount(2) is refused"))
struct DiskFullRecordingTests {
    typealias Attendee = MeetingMediaTests.Attendee

    /// Two recorders fed the same voice in lock step, one on a tmpfs that fills, one on the
    /// ordinary disk: Opus and the mix are deterministic, so the second's stream is what the
    /// first should have kept, up to where its disk filled.
    @Test func aRecorderStopsOnItsLastWholeChunkWhichExportsIncomplete() throws {
        let disk = try TmpfsMount(kilobytes: 1024)
        defer { disk.unmount() }
        let reference = try RecordingDataDirectory()
        let data = disk.url.appendingPathComponent("server", isDirectory: true)
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data)
        let chunkSize = 2048
        func recorder(in folder: URL, _ id: String) throws -> MeetingRecorder {
            try MeetingRecorder(
                id: RecordingID(id), meetingCode: "abc-defg-hij", dataDirectory: folder, masterKey: key, started: Date(),
                chunkSize: chunkSize)
        }
        let full = try recorder(in: data, "rec-full"), twin = try recorder(in: reference.url, "rec-twin")
        var speaker = try SimulatedParticipant(number: RecordingFixtures.distinctNumbers(1)[0])
        var failure: RecordingError?
        for tick in 0..<3000 where failure == nil {
            if tick == 150 { try disk.fill() }
            let (frame, sequence, timestamp) = try speaker.nextFrame(speaking: true)
            for r in [full, twin] {
                r.receive(participant: speaker.number, opusFrame: frame, sequenceNumber: sequence, timestamp: timestamp)
            }
            try twin.tick()
            do throws(RecordingError) { try full.tick() } catch { failure = error }
        }
        #expect(failure == .diskFull(path: full.fileURL.path))
        #expect(full.writeFailed)
        #expect(throws: RecordingError.diskFull(path: full.fileURL.path)) { try full.tick() }

        // The file ends on a whole chunk, and stays so: with space back, nothing is appended.
        let stored = Array(try Data(contentsOf: full.fileURL))
        guard case let .header(_, headerLength) = RecordingFileHeader.parse(stored) else {
            throw RecordingError.notARecording(path: full.fileURL.path)
        }
        let chunkOnDisk = 4 + chunkSize + 17
        #expect((stored.count - headerLength) % chunkOnDisk == 0, "a partial chunk was left at the end")
        let wholeChunks = (stored.count - headerLength) / chunkOnDisk
        disk.free()
        #expect(throws: RecordingError.diskFull(path: full.fileURL.path)) { try full.finish() }
        #expect(try Data(contentsOf: full.fileURL).count == stored.count)

        try twin.finish()
        let exports = try RecordingDataDirectory()
        let intact = exports.url.appendingPathComponent("twin.opus"), partial = exports.url.appendingPathComponent("full.opus")
        #expect(try RecordingVault(dataDirectory: reference.url, masterKey: key).export(RecordingID("rec-twin"), to: intact).isComplete)
        let export = try RecordingVault(dataDirectory: data, masterKey: key).export(RecordingID("rec-full"), to: partial)
        #expect(!export.isComplete)
        let expected = try RecordingFixtures.packetsSalvaged(
            from: Array(try Data(contentsOf: intact)), plaintextBytes: wholeChunks * chunkSize)
        let salvaged = try OggOpusReader(contentsOf: partial)
        #expect(expected.count >= 50, "at least a second of audio was on disk before it filled")
        #expect(salvaged.packets == expected, "\(salvaged.packets.count) packets exported, \(expected.count) expected")
        let heard = VoiceAnalyser(numbers: [speaker.number]).analyse(try salvaged.decodeAll())
        #expect(heard.speaker?.number == VoiceSignature(number: speaker.number).number, "\(heard)")
    }

    /// Over real media: a recorded meeting whose server's disk fills. The participants see REC
    /// go off with the reason, keep hearing each other, and once space is back can record again.
    @Test func aMeetingGoesOnWhenItsRecordingRunsOutOfDisk() async throws {
        let disk = try TmpfsMount(kilobytes: 8192)
        defer { disk.unmount() }
        let log = CapturedLog()
        let data = disk.url.appendingPathComponent("server", isDirectory: true)
        let server = try await TestServer.start(dataDirectory: data.path, logger: log.logger)
        let host = try await Attendee.make("+15557101", on: server)
        let guest = try await Attendee.make(nil, on: server)
        let link = try await host.engine.create(open: true, record: true, name: "Host")
        try await guest.engine.join(link, name: "Visitor")
        for attendee in [host, guest] {
            #expect(await eventually { await attendee.engine.snapshot()?.mediaConnected == true }, "\(attendee.events.log)")
        }
        // Two whole chunks (16 KiB, ~4 s of audio each) on disk before it fills.
        let recordings = data.appendingPathComponent("recordings")
        func recorded() -> Int {
            let files = (try? FileManager.default.contentsOfDirectory(at: recordings, includingPropertiesForKeys: [.fileSizeKey])) ?? []
            return files.filter { $0.pathExtension == "duetrec" }.compactMap { try? $0.resourceValues(forKeys: [.fileSizeKey]).fileSize }
                .max() ?? 0
        }
        #expect(await eventually { recorded() > 2 * (16 * 1024 + 21) + 200 }, "\(recorded()) bytes recorded")

        try disk.fill()
        let notice = "recording stopped: the server's disk is full; the meeting goes on unrecorded, and what was recorded until now is kept"
        for attendee in [host, guest] {
            let told = await eventually(timeout: .seconds(15)) { attendee.events.events.contains(.notice(.warning(.recording, notice))) }
            #expect(told, "\(attendee.events.log)")
            #expect(attendee.events.events.contains(.recording(false)), "\(attendee.events.log)")
            #expect(await attendee.engine.snapshot()?.meeting?.recording == false)
        }
        // The meeting goes on: both still hear each other after the recording stopped.
        let guestID = try #require(await guest.engine.snapshot()?.you)
        let heardAfter = host.events.events.count
        #expect(
            await eventually {
                host.events.events.dropFirst(heardAfter).contains { event in
                    if case let .hearing(reports) = event { reports.contains { $0.participant.id == guestID && $0.heard } } else { false }
                }
            }, "\(host.events.log)")
        #expect(await MeetingMediaTests.hears(guest, ["+15557101"]))
        #expect(
            log.messages(at: .error).filter { $0.hasPrefix("recording stopped; the meeting goes on unrecorded") }.count == 1,
            "\(log.messages(at: .error))")

        // Space back: recording works again, without a restart.
        disk.free()
        try await host.engine.record(true)
        #expect(await eventually { guest.events.events.filter { $0 == .recording(true) }.count == 2 }, "\(guest.events.log)")
        try await Task.sleep(for: .seconds(1))
        await host.engine.leave()
        let vault = try RecordingVault(dataDirectory: data)
        #expect(await eventually { ((try? vault.list()) ?? []).count == 2 && (try? vault.list())?.last?.ended != nil })
        let (cut, whole) = try (vault.list()[0], vault.list()[1])
        #expect(cut.ended == nil, "the recording the disk cut short has no end")
        let exports = try RecordingDataDirectory()
        let export = try vault.export(RecordingID(cut.id), to: exports.url.appendingPathComponent("cut.opus"))
        #expect(!export.isComplete)
        #expect(
            export.audioSeconds >= 4 && export.audioSeconds < 20,
            "\(export.audioSeconds) s, \(export.byteCount) bytes, \(cut.byteSize) on disk")
        #expect(try vault.export(RecordingID(whole.id), to: exports.url.appendingPathComponent("whole.opus")).isComplete)

        for attendee in [host, guest] { await attendee.close() }
        try await server.stop(keepingData: true)
    }
}
