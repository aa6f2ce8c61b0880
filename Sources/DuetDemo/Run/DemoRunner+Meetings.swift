import DuetClient
import DuetMedia
import DuetServer
import Foundation

/// Meetings: made by a device, joined by link (knock, admit), recorded by the server, and the
/// recording exported and decoded.
extension DemoRunner {
    func createMeeting(_ host: String, open: Bool, record: Bool) async throws -> Outcome {
        let device = try device(host)
        devices[host]?.activity = .meeting(since: device.meetingLog.mark)
        let link = try await device.meetings.create(open: open, record: record, name: device.display)
        meeting = (link, host)
        guard await waitUntil(stepTimeout, { await device.meetings.snapshot()?.mediaConnected == true }) else {
            throw DemoFailure("\(host)'s DTLS-SRTP leg to the server did not come up")
        }
        return Outcome(
            "link \(link)\(open ? " (open: no knocking)" : "; people knock and \(host) admits them")\(record ? "; recording from the start" : "")\ncloud-encrypted: the server can access this meeting"
        )
    }

    /// Knocks with the meeting's link; a guest gives its display name.
    func knock(_ name: String) async throws -> Outcome {
        guard let meeting else { throw DemoFailure("there is no meeting") }
        let device = try device(name)
        devices[name]?.activity = .meeting(since: device.meetingLog.mark)
        let entry = try await device.meetings.join(meeting.link, name: device.display)
        switch entry {
        case let .joined(joined):
            meetingIDs[name] = joined.you
            return Outcome("\(name) is in (the meeting is open)")
        case .waiting: return Outcome("\(name) knocks as \(device.display)\(device.number == nil ? " (guest)" : ""); the host decides")
        }
    }

    func admit(_ name: String, _ admit: Bool) async throws -> Outcome {
        guard let meeting else { throw DemoFailure("there is no meeting") }
        let (host, guest) = (try device(meeting.host), try device(name))
        let mark = guest.meetingLog.mark
        var knocker: String?
        _ = await waitUntil(stepTimeout) {
            knocker = await host.meetings.snapshot()?.meeting?.knocking.first { $0.id == guest.number || $0.name == guest.display }?.id
            return knocker != nil
        }
        guard let knocker else { throw DemoFailure("\(name) is not knocking at \(meeting.host)'s meeting") }
        try await host.meetings.admit(knocker, admit)
        guard admit else {
            guard await waitUntil(stepTimeout, { guest.meetingLog.last(since: mark) { if case .ended = $0 { true } else { nil } } != nil })
            else {
                throw DemoFailure("\(name) was denied but was not told")
            }
            return Outcome("\(meeting.host) denied \(name); \(name) was told it was not admitted")
        }
        guard await waitUntil(stepTimeout, { await guest.meetings.snapshot()?.mediaConnected == true }) else {
            throw DemoFailure("\(name) was admitted but its DTLS-SRTP leg did not come up")
        }
        meetingIDs[name] = knocker
        let recording = await guest.meetings.snapshot()?.meeting?.recording == true
        return Outcome("\(meeting.host) admitted \(name) (\(knocker))\(recording ? "; REC is shown to \(name) as well" : "")")
    }

    func record(_ name: String, _ on: Bool) async throws -> Outcome {
        let device = try device(name)
        try await device.meetings.record(on)
        return Outcome(on ? "the server records the meeting; everyone sees REC" : "recording stopped; the server finishes the file")
    }

    /// Waits for the server to finish the meeting's recording, exports it (decrypting the
    /// file at rest) and decodes the Ogg Opus it gives.
    func exportRecording() async throws -> Outcome {
        guard let meeting else { throw DemoFailure("there is no meeting") }
        let world = try requireWorld()
        let vault = try RecordingVault(dataDirectory: world.serverData)
        var finished: RecordingInfo?
        _ = await waitUntil(.seconds(20)) {
            finished = (try? vault.list())?.last { $0.meetingCode == meeting.link.code && $0.ended != nil }
            return finished != nil
        }
        guard let info = finished else {
            throw DemoFailure("the server did not finish a recording of \(meeting.link.code) (stop it, or end the meeting, first)")
        }
        let stored = try FileManager.default.contentsOfDirectory(
            at: world.serverData.appendingPathComponent("recordings"), includingPropertiesForKeys: nil)
        for file in stored {
            let bytes = try Data(contentsOf: file)
            for marker in ["OggS", "OpusHead", meeting.link.code] where bytes.range(of: Data(marker.utf8)) != nil {
                throw DemoFailure("'\(marker)' is readable in \(file.lastPathComponent) at rest")
            }
        }
        let destination = world.home.appendingPathComponent("recording-\(info.id).opus")
        let export = try vault.export(try RecordingID(info.id), to: destination)
        guard export.isComplete else { throw DemoFailure("recording \(info.id) exported incomplete: it has no final chunk") }
        let reader = try OggOpusReader(contentsOf: destination)
        exported = try reader.decodeAll()
        let seconds = Double(reader.playbackSamples) / Double(AudioFormat.sampleRate)
        return Outcome(
            "recording \(info.id): \(HearingReport.oneDecimal(seconds)) s of Ogg Opus (\(export.byteCount) bytes) exported; \(try await Self.playWithOpusdec(destination))"
                + "\nat rest it is secretstream ciphertext: no Ogg page, Opus header or meeting code readable in \(stored.count) files")
    }

    /// A second, independent player: opus-tools' `opusdec` (installed by `make deps`) must
    /// decode the export too. Without it the demo says it checked with libopus only.
    static func playWithOpusdec(_ file: URL) async throws -> String {
        let opusdec = ["/usr/bin/opusdec", "/usr/local/bin/opusdec"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let opusdec else { return "decoded with libopus (opusdec is not installed for a second opinion)" }
        let wav = file.deletingPathExtension().appendingPathExtension("wav")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opusdec)
        process.arguments = ["--quiet", "--rate", "48000", file.path, wav.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        // Waited for without holding one of the few cooperative threads the calls need.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            process.terminationHandler = { _ in done.resume() }
            do { try process.run() } catch {
                process.terminationHandler = nil
                done.resume()
            }
        }
        let samples = ((try? FileManager.default.attributesOfItem(atPath: wav.path)[.size] as? Int) ?? 0) / 2
        guard process.terminationStatus == 0, samples > AudioFormat.sampleRate else {
            throw DemoFailure("opusdec could not play the exported recording (status \(process.terminationStatus))")
        }
        return
            "decoded with libopus, and opusdec plays it (\(HearingReport.oneDecimal(Double(samples) / Double(AudioFormat.sampleRate))) s of audio)"
    }
}
