import DuetMedia
import Foundation

@testable import DuetServer

/// A data dir under the temp dir, removed when released.
final class RecordingDataDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("duet-rec-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// One simulated meeting participant: their synthetic voice, encoded as a call would
/// (default call encoder), with RTP-like sequence numbers and timestamps.
struct SimulatedParticipant {
    let number: String
    private var voice: SyntheticVoice
    private let encoder: OpusEncoder
    private var sequence = UInt16.random(in: .min ... .max)
    private var timestamp = UInt32.random(in: .min ... .max)

    init(number: String) throws {
        self.number = number
        voice = SyntheticVoice(number: number)
        encoder = try OpusEncoder()
    }

    /// The next 20 ms: speech, or encoded silence (still sent: Duet uses no DTX).
    mutating func nextFrame(speaking: Bool) throws -> (frame: [UInt8], sequence: UInt16, timestamp: UInt32) {
        let pcm = speaking ? voice.nextFrame() : [Int16](repeating: 0, count: AudioFormat.samplesPerFrame)
        defer {
            sequence &+= 1
            timestamp &+= UInt32(AudioFormat.samplesPerFrame)
        }
        return (try encoder.encode(pcm), sequence, timestamp)
    }

    mutating func send(to recorder: MeetingRecorder, speaking: Bool) throws {
        let (frame, sequence, timestamp) = try nextFrame(speaking: speaking)
        recorder.receive(participant: number, opusFrame: frame, sequenceNumber: sequence, timestamp: timestamp)
    }
}

enum RecordingFixtures {
    /// Up to `count` numbers whose voices sit in different pitch slots, so the analyser can tell them apart.
    static func distinctNumbers(_ count: Int) -> [String] {
        var chosen: [String] = []
        var slots = Set<Int>()
        for n in 101...999 where chosen.count < count {
            let number = "+1555010\(n)"
            if slots.insert(VoiceSignature(number: number).slot).inserted { chosen.append(number) }
        }
        return chosen
    }

    /// A finished recording of one voice speaking for `seconds`, in small chunks so there are many.
    static func oneVoice(
        in data: URL, masterKey: RecordingMasterKey, seconds: Int = 4, chunkSize: Int = 2048,
        id: String = "rec-test"
    ) throws -> (RecordingID, URL) {
        let recordingID = try RecordingID(id)
        let recorder = try MeetingRecorder(
            id: recordingID, meetingCode: "abc-defg-hij", dataDirectory: data, masterKey: masterKey,
            started: Date(), chunkSize: chunkSize)
        var speaker = try SimulatedParticipant(number: distinctNumbers(1)[0])
        for _ in 0..<(seconds * 50) {
            try speaker.send(to: recorder, speaking: true)
            try recorder.tick()
        }
        try recorder.finish()
        return (recordingID, recorder.fileURL)
    }

    /// (offset, total length with its 4-byte prefix) of each chunk in a recording file.
    static func chunks(of bytes: [UInt8]) -> [(offset: Int, length: Int)] {
        guard case let .header(_, headerLength) = RecordingFileHeader.parse(bytes) else { return [] }
        var result: [(Int, Int)] = []
        var offset = headerLength
        while offset + 4 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            result.append((offset, 4 + length))
            offset += 4 + length
        }
        return result
    }

    /// Where each Ogg page of `bytes` ends, read from the page headers alone (27 bytes, then
    /// a segment table whose lacing values sum to the body): independent of the reader.
    static func oggPageEnds(_ bytes: [UInt8]) -> [Int] {
        var ends: [Int] = []
        var offset = 0
        while offset + 27 <= bytes.count {
            let segments = Int(bytes[offset + 26])
            guard offset + 27 + segments <= bytes.count else { break }
            let end = offset + 27 + segments + bytes[(offset + 27)..<(offset + 27 + segments)].reduce(0) { $0 + Int($1) }
            guard end <= bytes.count else { break }
            ends.append(end)
            offset = end
        }
        return ends
    }

    /// The packets a recording cut after `plaintextBytes` of its Ogg stream should export:
    /// those on the pages of `intact` (the same stream, complete) that end within the cut.
    static func packetsSalvaged(from intact: [UInt8], plaintextBytes: Int) throws -> [[UInt8]] {
        let end = oggPageEnds(intact).last { $0 <= plaintextBytes } ?? 0
        return try OggOpusReader(bytes: Array(intact.prefix(end))).packets
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs anywhere in these bytes.
    func containsBytes(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if Array(self[start..<start + needle.count]) == needle { return true }
        }
        return false
    }
}
