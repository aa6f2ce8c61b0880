import DuetMedia
import Foundation
import Testing

@testable import DuetServer

/// What a real meeting leg does to the recorder: lost, reordered and duplicated frames, a
/// participant who leaves and rejoins with new sequence numbers, and a server that stops
/// before `finish()`.
@Suite("meeting recorder on a real network")
struct RecorderNetworkTests {
    static func decodedExport(of recorder: MeetingRecorder, data: URL) throws -> [Int16] {
        let export = data.appendingPathComponent("out.opus")
        try RecordingVault(dataDirectory: data).export(recorder.id, to: export)
        return try OggOpusReader(contentsOf: export).decodeAll()
    }

    @Test func lossReorderingAndDuplicatesAreConcealed() throws {
        let data = try RecordingDataDirectory()
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        let recorder = try MeetingRecorder(
            id: RecordingID("rec-lossy"), meetingCode: "abc-defg-hij", dataDirectory: data.url, masterKey: key)
        let number = RecordingFixtures.distinctNumbers(1)[0]
        var speaker = try SimulatedParticipant(number: number)
        var held: (frame: [UInt8], sequence: UInt16, timestamp: UInt32)?
        for tick in 0..<200 {
            let packet = try speaker.nextFrame(speaking: true)
            if tick % 10 == 3 { continue }  // 10 % lost
            if tick % 10 == 6 {
                held = packet
                continue
            }  // arrives one tick late, after its successor
            recorder.receive(participant: number, opusFrame: packet.frame, sequenceNumber: packet.sequence, timestamp: packet.timestamp)
            if tick % 10 == 7, let late = held {
                recorder.receive(participant: number, opusFrame: late.frame, sequenceNumber: late.sequence, timestamp: late.timestamp)
                recorder.receive(participant: number, opusFrame: late.frame, sequenceNumber: late.sequence, timestamp: late.timestamp)
            }
            try recorder.tick()
        }
        let statistics = try #require(recorder.statistics(for: number))
        #expect(statistics.concealed >= 15, "lost frames are rebuilt (FEC) or concealed (PLC): \(statistics)")
        #expect(statistics.duplicates >= 15 && statistics.late == 0, "\(statistics)")
        try recorder.finish()
        let pcm = try Self.decodedExport(of: recorder, data: data.url)
        let heard = VoiceAnalyser(numbers: [number]).analyse(MeetingRecorderTests.stretch(pcm, 0.3, 3.9))
        #expect(heard.speaker?.number == VoiceSignature(number: number).number, "\(heard)")
    }

    @Test func aParticipantWhoRejoinsIsHeardAgain() throws {
        let data = try RecordingDataDirectory()
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        let recorder = try MeetingRecorder(
            id: RecordingID("rec-rejoin"), meetingCode: "abc-defg-hij", dataDirectory: data.url, masterKey: key)
        let number = RecordingFixtures.distinctNumbers(1)[0]
        var first = try SimulatedParticipant(number: number)
        // 0–2 s speaking, 2–3 s gone, 3–5 s back on a new leg (new random sequence numbers).
        for _ in 0..<100 {
            try first.send(to: recorder, speaking: true)
            try recorder.tick()
        }
        recorder.participantLeft(number)
        for _ in 0..<50 { try recorder.tick() }
        var second = try SimulatedParticipant(number: number)
        for _ in 0..<100 {
            try second.send(to: recorder, speaking: true)
            try recorder.tick()
        }
        let info = try recorder.finish()
        #expect(info.participants == [number], "a rejoin is the same participant")
        let pcm = try Self.decodedExport(of: recorder, data: data.url)
        let analyser = VoiceAnalyser(numbers: [number])
        #expect(analyser.analyse(MeetingRecorderTests.stretch(pcm, 2.3, 2.9)).isSilent, "silence while they were gone")
        let back = analyser.analyse(MeetingRecorderTests.stretch(pcm, 3.3, 4.9))
        #expect(back.speaker?.number == VoiceSignature(number: number).number, "\(back)")
    }

    @Test func aRecordingTheServerNeverFinishedIsListedUnfinishedAndExportsIncomplete() throws {
        let data = try RecordingDataDirectory()
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        let number = RecordingFixtures.distinctNumbers(1)[0]
        do {
            let recorder = try MeetingRecorder(
                id: RecordingID("rec-crash"), meetingCode: "abc-defg-hij", dataDirectory: data.url,
                masterKey: key, started: Date(), chunkSize: 1024)
            var speaker = try SimulatedParticipant(number: number)
            for _ in 0..<150 {
                try speaker.send(to: recorder, speaking: true)
                try recorder.tick()
            }
            // Released without finish(), as when the server process dies.
        }
        let vault = RecordingVault(dataDirectory: data.url, masterKey: key)
        let listed = try vault.list()
        #expect(listed.count == 1)
        #expect(listed.first?.ended == nil)
        #expect(listed.first?.participants == [number])
        #expect((listed.first?.byteSize ?? 0) > 2048, "whole chunks were written as the meeting went")
        let output = data.url.appendingPathComponent("crash.opus")
        let export = try vault.export(RecordingID("rec-crash"), to: output)
        #expect(!export.isComplete)
        let packets = try OggOpusReader(contentsOf: output).packets.count
        #expect(packets > 0 && packets < 150, "\(packets) packets: those on whole pages in whole chunks")
    }
}

extension RecorderNetworkTests {
    /// A leg that restarts its sequence numbers behind the old ones, with no `participantLeft`
    /// from the meeting code, would be "late" forever; the lane starts afresh instead.
    @Test func aSequenceRestartWithoutLeavingIsHeardAgain() throws {
        let data = try RecordingDataDirectory()
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        let recorder = try MeetingRecorder(
            id: RecordingID("rec-restart"), meetingCode: "abc-defg-hij", dataDirectory: data.url, masterKey: key)
        let number = RecordingFixtures.distinctNumbers(1)[0]
        var speaker = try SimulatedParticipant(number: number)
        for tick in 0..<250 {
            var packet = try speaker.nextFrame(speaking: true)
            if tick >= 100 { packet.sequence &-= 5000 }  // the new leg numbers 5000 behind
            recorder.receive(participant: number, opusFrame: packet.frame, sequenceNumber: packet.sequence, timestamp: packet.timestamp)
            try recorder.tick()
        }
        try recorder.finish()
        let pcm = try Self.decodedExport(of: recorder, data: data.url)
        let heard = VoiceAnalyser(numbers: [number]).analyse(MeetingRecorderTests.stretch(pcm, 3.0, 4.9))
        #expect(heard.speaker?.number == VoiceSignature(number: number).number, "\(heard)")
    }

    @Test func aLostSidecarDoesNotHideOtherRecordings() throws {
        let data = try RecordingDataDirectory()
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        _ = try RecordingFixtures.oneVoice(in: data.url, masterKey: key, seconds: 1, id: "rec-a")
        _ = try RecordingFixtures.oneVoice(in: data.url, masterKey: key, seconds: 1, id: "rec-b")
        try FileManager.default.removeItem(at: data.url.appendingPathComponent("recordings/rec-a.meta"))
        let listed = try RecordingVault(dataDirectory: data.url, masterKey: key).list()
        #expect(Set(listed.map(\.id)) == ["rec-a", "rec-b"])
        #expect(listed.first { $0.id == "rec-a" }?.problem?.contains("metadata unreadable") == true)
        #expect(listed.first { $0.id == "rec-b" }?.problem == nil)
    }
}
