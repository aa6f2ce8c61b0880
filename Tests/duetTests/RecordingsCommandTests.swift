import DuetMedia
import DuetServer
import Foundation
import Testing

/// `duet server recordings list|export` through the real binary, against a data dir a real
/// `MeetingRecorder` wrote.
@Suite("duet server recordings (binary)")
struct RecordingsCommandTests {
    /// `ticks` of one voice; unfinished, the file is left as a server that died mid-recording leaves it.
    static func record(in data: URL, id: String, ticks: Int = 100, finished: Bool = true) throws {
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data)
        let recorder = try MeetingRecorder(id: RecordingID(id), meetingCode: "abc-defg-hij", dataDirectory: data, masterKey: key)
        var voice = SyntheticVoice(number: "+15550123")
        let encoder = try OpusEncoder()
        for tick in 0..<ticks {
            recorder.receive(
                participant: "+15550123", opusFrame: try encoder.encode(voice.nextFrame()),
                sequenceNumber: UInt16(truncatingIfNeeded: tick), timestamp: UInt32(tick * AudioFormat.samplesPerFrame))
            try recorder.tick()
        }
        if finished { try recorder.finish() }
    }

    @Test func aRecordingCutShortExportsAndSaysItIsIncomplete() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-recordings-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let data = home.appendingPathComponent("server")
        try Self.record(in: data, id: "rec-cut", ticks: 600, finished: false)  // 12 s: two or three whole 16 KiB chunks
        let output = home.appendingPathComponent("cut.opus")
        let export = try DuetCommandLine(home: home).run([
            "server", "recordings", "export", "rec-cut", "-o", output.path, "--data", data.path
        ])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stderr.hasPrefix("exported rec-cut to \(output.path) ("), "\(export.stderr)")
        #expect(
            export.stderr.hasSuffix(
                " s) — INCOMPLETE: the recording stops before its end (the server stopped, or its disk filled, while recording); "
                    + "this is everything up to its last complete chunk\n"), "\(export.stderr)")
        let packets = try OggOpusReader(contentsOf: output).packets.count
        #expect(packets >= 200 && packets < 600, "\(packets) packets: whole pages of whole chunks")
    }

    @Test func listsAndExportsAndRefusesATamperedFile() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-recordings-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let data = home.appendingPathComponent("server")
        let cli = DuetCommandLine(home: home)

        let empty = try cli.run(["server", "recordings", "list", "--data", data.path])
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(empty.stderr.contains("no recordings"))

        try Self.record(in: data, id: "rec-cli")
        let list = try cli.run(["server", "recordings", "list", "--data", data.path])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix("ID"), "\(list.stdout)")
        #expect(
            lines.last?.contains("rec-cli") == true && lines.last?.contains("abc-defg-hij") == true
                && lines.last?.contains("+15550123") == true,
            "\(list.stdout)")
        #expect(lines.last?.contains(" 2.0 ") == true, "two seconds recorded: \(list.stdout)")

        let output = home.appendingPathComponent("meeting.opus")
        let export = try cli.run(["server", "recordings", "export", "rec-cli", "-o", output.path, "--data", data.path])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(try OggOpusReader(contentsOf: output).packets.count == 100)

        // One flipped byte in the file at rest: non-zero exit, the error's message, no output.
        let file = data.appendingPathComponent("recordings/rec-cli.duetrec")
        var bytes = Array(try Data(contentsOf: file))
        bytes[bytes.count - 20] ^= 0x80
        try Data(bytes).write(to: file)
        let refused = home.appendingPathComponent("refused.opus")
        let tampered = try cli.run(["server", "recordings", "export", "rec-cli", "-o", refused.path, "--data", data.path])
        #expect(tampered.status != 0)
        #expect(tampered.stderr.contains("the recording was tampered with or is corrupt at byte"), "\(tampered.stderr)")
        #expect(!FileManager.default.fileExists(atPath: refused.path))

        let unknown = try cli.run(["server", "recordings", "export", "rec-nope", "-o", refused.path, "--data", data.path])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no recording 'rec-nope'"), "\(unknown.stderr)")
        let badID = try cli.run(["server", "recordings", "export", "../x", "-o", refused.path, "--data", data.path])
        #expect(badID.status != 0)
        #expect(badID.stderr.contains("is not a recording id"), "\(badID.stderr)")
    }
}
