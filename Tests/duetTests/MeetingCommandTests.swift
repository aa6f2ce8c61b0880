import Foundation
import Testing

/// `duet meeting create` and `duet meeting join` as separate processes on a real `duet
/// server` (docs/meetings.md): a registered device and a guest knock, the host's policy admits or
/// denies, and everyone inside hears everyone.
@Suite("duet meeting", .serialized)
struct MeetingCommandTests {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-meetings-\(UUID().uuidString)")

    func link(in child: DuetChild) async -> String? {
        guard await child.waitForLine(containing: "duet://") else { return nil }
        return child.lines.lazy.compactMap { $0.split(separator: " ").first { $0.hasPrefix("duet://") }.map(String.init) }.first
    }

    /// The first recording `duet server recordings list` prints for the data dir.
    static func recordingID(listedIn data: String, _ duet: DuetCommandLine) throws -> String? {
        let list = try duet.run(["server", "recordings", "list", "--data", data])
        #expect(list.status == 0, "\(list.stderr)")
        return list.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }.first {
            $0.hasPrefix("rec-")
        }
    }

    /// What `tool` prints, stdout and stderr, trimmed.
    static func output(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        (process.standardOutput, process.standardError) = (pipe, pipe)
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The end-to-end check of docs/meetings.md "Tests": a recorded meeting of three whose export plays in opusdec.
    @Test func aRecordedMeetingOfAHostADeviceAndAGuestExportsAndPlays() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let duet = DuetCommandLine(home: home)
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        defer { server.stop() }
        for (profile, number) in [("ann", "+15556301"), ("ben", "+15556302")] {
            #expect(try duet.run(["register", number, "--profile", profile, "--server", server.signaling]).status == 0)
        }
        let host = try DuetChild(["meeting", "create", "--record", "--duration", "8s", "--name", "Ann", "--profile", "ann"], home: home)
        let url = try #require(await link(in: host), "no link: \(host.text)")
        #expect(url.wholeMatch(of: /duet:\/\/127\.0\.0\.1:\d+\/[a-z]{3}-[a-z]{4}-[a-z]{3}#[0-9a-f]{64}/) != nil, "\(url)")

        let ben = try DuetChild(["meeting", "join", url, "--profile", "ben"], home: home)
        let guest = try DuetChild(["meeting", "join", url, "--name", "Visitor", "--profile", "visitor"], home: home)
        let heardBoth = await eventually(timeout: .seconds(40)) {
            host.lines.contains { $0.hasPrefix("hearing: ") && $0.contains("+15556302 heard") && $0.contains("Visitor heard") }
        }
        #expect(heardBoth, "ann: \(host.text)")
        #expect(
            await eventually(timeout: .seconds(40)) { guest.lines.contains { $0.contains("Ann heard") && $0.contains("+15556302 heard") } },
            "guest: \(guest.text)")
        #expect(await host.waitForExit() == 0, "ann: \(host.text)")
        #expect(await ben.waitForExit() == 0, "ben: \(ben.text)")
        #expect(await guest.waitForExit() == 0, "guest: \(guest.text)")
        #expect(guest.lines.contains("ended: the host left, which ends the meeting"), "guest: \(guest.text)")
        #expect(host.lines.contains { $0.contains("cloud-encrypted: the server can access this meeting") })
        #expect(!(host.text + guest.text + ben.text).contains("end-to-end"), "a meeting must never claim end-to-end encryption")
        #expect(guest.lines.contains("REC: this meeting is being recorded by the server"), "guest: \(guest.text)")

        // The operator lists and exports the recording; opusdec plays it.
        let data = server.dataDirectory.path
        let id = try #require(try Self.recordingID(listedIn: data, duet), "no recording listed")
        let export = home.appendingPathComponent("meeting.opus")
        let exported = try duet.run(["server", "recordings", "export", id, "-o", export.path, "--data", data])
        #expect(exported.status == 0, "\(exported.stderr)")
        let opusdec = Process()
        opusdec.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        opusdec.arguments = ["opusdec", "--quiet", export.path, home.appendingPathComponent("meeting.wav").path]
        try opusdec.run()
        opusdec.waitUntilExit()
        #expect(opusdec.terminationStatus == 0, "opusdec could not play the export")
    }

    /// A meeting with video (docs/video.md "Meetings"): a host and a guest with cameras see
    /// each other, named by their pictures; the recording exports as WebM with a VP8 and an
    /// Opus stream that ffmpeg decodes to the end.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ffprobe")))
    func aMeetingWithAGuestShowsAndRecordsVideo() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let duet = DuetCommandLine(home: home)
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        defer { server.stop() }
        #expect(try duet.run(["register", "+15556311", "--profile", "ann", "--server", server.signaling]).status == 0)
        let host = try DuetChild(
            ["meeting", "create", "--record", "--video", "--duration", "8s", "--name", "Ann", "--profile", "ann"], home: home)
        let url = try #require(await link(in: host), "no link: \(host.text)")
        let guest = try DuetChild(["meeting", "join", url, "--video", "--name", "Visitor", "--profile", "visitor"], home: home)
        #expect(await host.waitForExit() == 0, "ann: \(host.text)")
        #expect(await guest.waitForExit() == 0, "guest: \(guest.text)")
        #expect(host.lines.contains { $0.hasPrefix("seeing Visitor ") && $0.contains(" 160x120 ") }, "ann: \(host.text)")
        #expect(guest.lines.contains { $0.hasPrefix("seeing Ann ") && $0.contains(" 160x120 ") }, "guest: \(guest.text)")

        let data = server.dataDirectory.path
        let id = try #require(try Self.recordingID(listedIn: data, duet), "no recording listed")
        let export = home.appendingPathComponent("meeting.webm")
        let exported = try duet.run(["server", "recordings", "export", id, "-o", export.path, "--data", data])
        #expect(exported.status == 0 && exported.stderr.contains("WebM (VP8 + Opus)"), "\(exported.stderr)")
        let probe = try Self.output(
            "/usr/bin/ffprobe", ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", export.path])
        #expect(probe == "vp8\nopus", "\(probe)")
        // Every picture and audio frame decodes, with no complaint.
        let decoded = try Self.output(
            "/usr/bin/ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", export.path])
        #expect(decoded.split(separator: "\n").compactMap { Int($0) }.filter { $0 > 10 }.count == 2, "\(decoded)")
    }

    @Test func aHostWhoAdmitsNobodyLeavesTheKnockerOutWithAClearReason() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let duet = DuetCommandLine(home: home)
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        defer { server.stop() }
        #expect(try duet.run(["register", "+15556311", "--profile", "ann", "--server", server.signaling]).status == 0)
        let host = try DuetChild(["meeting", "create", "--duration", "6s", "--admit", "none", "--profile", "ann"], home: home)
        let url = try #require(await link(in: host), "no link: \(host.text)")
        let knocker = try DuetChild(["meeting", "join", url, "--name", "Stranger", "--profile", "stranger"], home: home)
        #expect(await knocker.waitForExit() != 0, "stranger: \(knocker.text)")
        #expect(knocker.text.contains("not admitted"), "stranger: \(knocker.text)")
        let bad = try duet.run(["meeting", "join", "https://example.com/abc", "--name", "X", "--profile", "stranger"])
        #expect(bad.status != 0 && bad.stderr.contains("is not a meeting link"), "\(bad.stderr)")
        _ = await host.waitForExit()
    }
}
