import DuetMedia
import DuetWire
import Foundation
import Testing

@testable import DuetServer

/// A meeting's recording keeps the active speaker's picture (docs/recordings.md "Video"), at
/// rest encrypted like the audio, and exports with it as WebM.
@Suite("Meeting recordings with video")
struct RecordingVideoTests {
    /// A participant's camera as a meeting leg carries it: VP8 in RFC 7741 packets.
    struct Camera {
        let person: String
        let encoder: VP8Encoder
        let camera: SyntheticCamera
        var sequence: UInt16 = 7
        var pictureID: UInt16 = 0

        init(_ person: String) throws {
            self.person = person
            camera = SyntheticCamera(person: person)
            // A keyframe a second: the recorder switches at the new speaker's next keyframe.
            encoder = try VP8Encoder(configuration: .init(keyframeSeconds: 1))
        }

        mutating func packets(_ index: Int) throws -> [RTPPacket] {
            var packets: [RTPPacket] = []
            for frame in try encoder.encode(camera.frame(index)) {
                let payloads = VP8Payload.packetize(frame.bytes, pictureID: pictureID, maximumPayload: 1_000)
                pictureID = (pictureID + 1) & 0x7FFF
                for (part, payload) in payloads.enumerated() {
                    packets.append(
                        RTPPacket(
                            payloadType: RTPPayloadType.vp8, sequenceNumber: sequence, timestamp: UInt32(index * 6_000), ssrc: 2,
                            marker: part == payloads.count - 1, payload: payload))
                    sequence &+= 1
                }
            }
            return packets
        }
    }

    /// Ann speaks for two seconds, then Ben for two; both cameras are on. The picture is Ann's,
    /// then Ben's from his next keyframe; the file at rest shows no VP8; the WebM export holds a
    /// VP8 and an Opus stream that ffmpeg decodes to the end.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ffprobe")))
    func theActiveSpeakersPictureIsRecordedAndExportsAsWebM() throws {
        let data = try RecordingDataDirectory()
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        let id = RecordingID.make()
        let recorder = try MeetingRecorder(id: id, meetingCode: "abc-defg-hij", dataDirectory: data.url, masterKey: key)
        let numbers = RecordingFixtures.distinctNumbers(2)
        var voices = try numbers.map(SimulatedParticipant.init)
        var cameras = try numbers.map(Camera.init)
        var shown: [String?] = []
        for tick in 0..<200 {
            for index in voices.indices { try voices[index].send(to: recorder, speaking: (tick < 100) == (index == 0)) }
            // 12.5 pictures a second from each camera.
            if tick % 4 == 0 {
                for index in cameras.indices {
                    for packet in try cameras[index].packets(tick / 4) { recorder.receive(participant: numbers[index], packet: packet) }
                }
            }
            try recorder.tick()
            if [49, 99, 199].contains(tick) { shown.append(recorder.shownOnVideo) }
        }
        try recorder.finish()
        #expect(shown == [numbers[0], numbers[0], numbers[1]], "\(shown)")

        let vault = RecordingVault(dataDirectory: data.url, masterKey: key)
        let atRest = try Data(
            contentsOf: recorder.fileURL.deletingPathExtension().appendingPathExtension(RecordingVideoTrack.fileExtension))
        #expect(atRest.range(of: Data("DKIF".utf8)) == nil && atRest.range(of: Data([0x9D, 0x01, 0x2A])) == nil, "VP8 in the clear at rest")
        let (ivf, complete) = try vault.decryptWhole(
            recorder.fileURL.deletingPathExtension().appendingPathExtension(RecordingVideoTrack.fileExtension), id: id)
        let picture = try #require(IVFStream.parse(ivf))
        #expect(complete && picture.width == 160 && picture.height == 120)
        let decoder = try VP8Decoder()
        let people = try picture.frames.map { frame in try decoder.decode(frame.bytes).flatMap(VideoTag.read)?.person }
        #expect(people.first == VideoTag.code(for: numbers[0]) && people.last == VideoTag.code(for: numbers[1]), "\(people)")

        let webm = data.url.appendingPathComponent("meeting.webm")
        let export = try vault.export(id, to: webm)
        #expect(export.isComplete && export.videoFrames == picture.frames.count && abs(export.audioSeconds - 4) < 0.1)
        #expect(
            try Self.run("/usr/bin/ffprobe", ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", webm.path])
                == "vp8\nopus")
        // Every picture and every audio frame decodes, with no complaint.
        let decoded = try Self.run(
            "/usr/bin/ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", webm.path])
        #expect(decoded == "\(picture.frames.count)\n200", "\(decoded)")
    }

    /// A meeting with nobody's camera on keeps no picture file, and still exports as WebM.
    @Test func aMeetingWithoutCamerasExportsItsAudioAsWebM() throws {
        let data = try RecordingDataDirectory()
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        let id = RecordingID.make()
        let recorder = try MeetingRecorder(id: id, meetingCode: "abc-defg-hij", dataDirectory: data.url, masterKey: key)
        var voice = try SimulatedParticipant(number: RecordingFixtures.distinctNumbers(1)[0])
        for _ in 0..<50 {
            try voice.send(to: recorder, speaking: true)
            try recorder.tick()
        }
        try recorder.finish()
        let folder = recorder.fileURL.deletingLastPathComponent()
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path).allSatisfy { !$0.hasSuffix(RecordingVideoTrack.fileExtension) }
        )
        let export = try RecordingVault(dataDirectory: data.url, masterKey: key).export(id, to: data.url.appendingPathComponent("a.webm"))
        #expect(export.isComplete && export.videoFrames == 0 && abs(export.audioSeconds - 1) < 0.1)
    }

    /// What `tool` prints, trimmed (errors included: ffmpeg's decoding complaints go to stderr).
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
