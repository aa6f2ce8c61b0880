import DuetMedia
import Foundation
import Testing

@testable import DuetServer

/// The recorder end to end: three synthetic voices join, speak alone and together and leave;
/// the export, decoded by opusdec (an independent Ogg Opus decoder) and by OggOpusReader,
/// must let the analyser name whoever spoke alone in each stretch.
@Suite("meeting recorder")
struct MeetingRecorderTests {
    /// 0–2 s A alone; 2–4 s B alone (A sends silence); 4–6 s A and B together;
    /// 6–8 s A has left, C joins and speaks alone (B sends silence).
    static let seconds = 8

    struct Meeting {
        let data: RecordingDataDirectory
        let numbers: [String]
        let info: RecordingInfo
        let export: URL
        let fileURL: URL
    }

    static func holdMeeting() throws -> Meeting {
        let data = try RecordingDataDirectory()
        let numbers = RecordingFixtures.distinctNumbers(3)
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        let recorder = try MeetingRecorder(id: RecordingID("rec-mix"), meetingCode: "abc-defg-hij", dataDirectory: data.url, masterKey: key)
        var a = try SimulatedParticipant(number: numbers[0])
        var b = try SimulatedParticipant(number: numbers[1])
        var c = try SimulatedParticipant(number: numbers[2])
        for tick in 0..<(seconds * 50) {
            let second = tick / 50
            if second < 6 { try a.send(to: recorder, speaking: second < 2 || second >= 4) }
            if second == 6, tick % 50 == 0 { recorder.participantLeft(a.number) }
            if second >= 2 { try b.send(to: recorder, speaking: second < 6) }
            if second >= 6 { try c.send(to: recorder, speaking: true) }
            try recorder.tick()
        }
        let info = try recorder.finish()
        let export = data.url.appendingPathComponent("meeting.opus")
        try RecordingVault(dataDirectory: data.url).export(RecordingID("rec-mix"), to: export)
        return Meeting(data: data, numbers: numbers, info: info, export: export, fileURL: recorder.fileURL)
    }

    /// Samples from `from` to `to` seconds.
    static func stretch(_ pcm: [Int16], _ from: Double, _ to: Double) -> [Int16] {
        let rate = Double(AudioFormat.sampleRate)
        let start = min(pcm.count, Int(from * rate)), end = min(pcm.count, Int(to * rate))
        return Array(pcm[start..<end])
    }

    /// Who the analyser hears alone in each stretch (margins leave room for the jitter buffer's delay).
    static func checkSpeakers(_ pcm: [Int16], _ numbers: [String], decoder: String) {
        let analyser = VoiceAnalyser(numbers: numbers)
        let expectations: [(Double, Double, String)] = [(0.3, 1.9, numbers[0]), (2.3, 3.9, numbers[1]), (6.3, 7.9, numbers[2])]
        for (from, to, who) in expectations {
            let heard = analyser.analyse(stretch(pcm, from, to))
            #expect(heard.speaker?.number == VoiceSignature(number: who).number, "\(decoder) \(from)–\(to) s: \(heard)")
        }
        let together = analyser.analyse(stretch(pcm, 4.3, 5.9))
        #expect(!together.isSilent, "\(decoder) 4.3–5.9 s should hold both voices: \(together)")
        #expect(pcm.count >= (seconds * AudioFormat.sampleRate) * 95 / 100, "\(decoder): \(pcm.count) samples")
    }

    @Test func mixesParticipantsWhoJoinSpeakAndLeave() throws {
        let meeting = try Self.holdMeeting()
        #expect(meeting.info.participants == meeting.numbers)
        #expect(meeting.info.audioSeconds == Double(Self.seconds))

        // An independent decoder first: opus-tools' opusdec.
        let wav = meeting.data.url.appendingPathComponent("meeting.wav")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["opusdec", "--quiet", "--rate", "48000", meeting.export.path, wav.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "opusdec failed on the export")
        let fromOpusdec = try WAVFile.read(Array(Data(contentsOf: wav)))
        Self.checkSpeakers(fromOpusdec, meeting.numbers, decoder: "opusdec")

        let reader = try OggOpusReader(contentsOf: meeting.export)
        #expect(reader.tags.comments.contains("TITLE=Duet meeting abc-defg-hij"))
        Self.checkSpeakers(try reader.decodeAll(), meeting.numbers, decoder: "OggOpusReader")
    }

    @Test func theFileAtRestShowsNoOggOrOpus() throws {
        let meeting = try Self.holdMeeting()
        let atRest = Array(try Data(contentsOf: meeting.fileURL))
        #expect(atRest.count > 10_000)
        #expect(!atRest.containsBytes(Array("OggS".utf8)))
        #expect(!atRest.containsBytes(Array("OpusHead".utf8)))
        #expect(!atRest.containsBytes(Array("abc-defg-hij".utf8)), "the meeting code is sealed too")
        // The export of the same recording does have them: the check above can fail.
        let exported = Array(try Data(contentsOf: meeting.export))
        #expect(exported.containsBytes(Array("OggS".utf8)) && exported.containsBytes(Array("OpusHead".utf8)))
        let attributes = try FileManager.default.attributesOfItem(atPath: meeting.fileURL.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let keyAttributes = try FileManager.default.attributesOfItem(atPath: meeting.data.url.appendingPathComponent("recordings.key").path)
        #expect((keyAttributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test func mixingLimitsInsteadOfWrapping() {
        var mixer = AudioMixer()
        let loud = [Int16](repeating: 30_000, count: AudioFormat.samplesPerFrame)
        let mixed = mixer.mix([loud, loud, loud])
        #expect(mixed.allSatisfy { $0 > 30_000 }, "a sum over full scale is limited, never wrapped to negative")
        #expect(mixer.gain < 0.4)
        let quiet = [Int16](repeating: 1000, count: AudioFormat.samplesPerFrame)
        for _ in 0..<40 { _ = mixer.mix([quiet]) }
        #expect(mixer.gain == 1, "the gain recovers once the mix is quiet")
        #expect(mixer.mix([quiet, quiet]).allSatisfy { $0 == 2000 })
        #expect(mixer.mix([]).allSatisfy { $0 == 0 })
    }
}
