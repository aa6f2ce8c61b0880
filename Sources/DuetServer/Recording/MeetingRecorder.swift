import DuetMedia
import DuetWire
import Foundation

/// Records a cloud-encrypted meeting (docs/recordings.md): the server already decrypts each
/// participant's SRTP, so it can mix everyone into one track and keep it, encrypted at rest.
///
/// The meeting code hands over each participant's decrypted Opus frames with `receive`, calls
/// `tick()` every 20 ms of meeting time, and `finish()` at the end. Each tick plays one frame
/// out of every participant's jitter buffer (decoding, or concealing a lost frame), sums them
/// (`AudioMixer`), encodes the mix with Opus, appends it to an Ogg Opus stream and writes
/// whole pages through `EncryptedRecordingWriter` — so memory stays flat however long the
/// meeting runs. The clock is the caller's: the meeting already has a 20 ms media loop, and a
/// test or a benchmark can drive it faster than real time.
///
/// The picture (`RecordingVideoTrack`): the active speaker's camera, the speaker being the
/// participant whose decoded voice was loudest over the last half second (`speakerTicks`).
///
/// Participants may arrive and leave at any time: a participant is added when their first
/// frame arrives and contributes silence whenever they send nothing. `participantLeft` drops
/// their lane at once (a rejoin starts a fresh jitter buffer and decoder, as their sequence
/// numbers will restart); a lane silent for `idleTicks` is dropped as well.
///
/// Not Sendable: one task (the meeting's media loop) owns a recorder.
public final class MeetingRecorder {
    /// 10 s without a frame: the participant's lane is dropped to free its decoder.
    public static let idleTicks = 500
    /// The speaker is chosen again every half second, from the voices' energy in it.
    static let speakerTicks = 25
    /// Mean square sample value below which a voice is not speaking (about -40 dBFS).
    static let speakingEnergy = 100.0 * 100.0

    public let id: RecordingID
    public let meetingCode: String
    /// Where the encrypted recording is written.
    public let fileURL: URL
    private let sidecarURL: URL
    private let masterKey: RecordingMasterKey
    private let writer: EncryptedRecordingWriter
    private let encoder: OpusEncoder
    private var ogg: OggOpusWriter
    private var mixer = AudioMixer()
    private var lanes: [String: ParticipantLane] = [:]
    private let video: RecordingVideoTrack
    /// Each voice's energy since the speaker was last chosen.
    private var energy: [String: Double] = [:]
    /// A write of the picture failed: the next tick reports it.
    private var videoFailure: RecordingError?
    private var info: RecordingInfo
    private var ticks = 0
    private var finished = false

    /// The recording's file and sidecar live in `<dataDirectory>/recordings/`.
    static func directory(in dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("recordings", isDirectory: true) }

    /// Starts a recording: creates `<id>.duetrec` (0600; an existing id is refused) and its
    /// sealed metadata sidecar. `masterKey` is normally `RecordingMasterKey.loadOrCreate(dataDirectory:)`.
    public convenience init(id: RecordingID, meetingCode: String, dataDirectory: URL, masterKey: RecordingMasterKey, started: Date = Date())
        throws(RecordingError)
    {
        try self.init(
            id: id, meetingCode: meetingCode, dataDirectory: dataDirectory, masterKey: masterKey, started: started,
            chunkSize: EncryptedRecordingWriter.defaultChunkSize)
    }

    /// `chunkSize`: plaintext bytes per encrypted chunk; tests make it small to get many chunks.
    init(id: RecordingID, meetingCode: String, dataDirectory: URL, masterKey: RecordingMasterKey, started: Date, chunkSize: Int)
        throws(RecordingError)
    {
        self.id = id
        self.meetingCode = meetingCode
        self.masterKey = masterKey
        let folder = Self.directory(in: dataDirectory)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io(operation: "create the recordings folder", path: folder.path, reason: "\(error)")
        }
        fileURL = folder.appendingPathComponent("\(id.rawValue).\(RecordingVault.fileExtension)")
        sidecarURL = folder.appendingPathComponent("\(id.rawValue).\(RecordingSidecar.fileExtension)")
        do {
            // A file, not a network stream: no loss to protect against, so no FEC; the top of
            // Duet's bitrate range, since several voices share one track.
            encoder = try OpusEncoder(configuration: .init(bitrate: 32_000, complexity: 10, packetLossPercentage: 0, inBandFEC: false))
        } catch {
            throw .codec("\(error)")
        }
        ogg = OggOpusWriter(
            preSkip: encoder.lookahead, tags: OpusTags(comments: ["TITLE=Duet meeting \(meetingCode)", "DUET_RECORDING=\(id.rawValue)"]))
        info = RecordingInfo(
            id: id.rawValue, meetingCode: meetingCode, started: started, ended: nil, participants: [], audioSeconds: 0, byteSize: 0)
        writer = try EncryptedRecordingWriter(url: fileURL, id: id, masterKey: masterKey, chunkSize: chunkSize)
        video = RecordingVideoTrack(folder: folder, id: id, masterKey: masterKey, chunkSize: chunkSize)
        do { try RecordingSidecar.write(info, to: sidecarURL, masterKey: masterKey) } catch {
            writer.discard()  // a recording without its metadata would only be listed as damaged
            throw error
        }
    }

    /// True once a write to the file failed (a full disk): the recording is over, and its file
    /// ends on its last complete chunk, with no FINAL chunk (it exports as incomplete).
    public var writeFailed: Bool { writer.failure != nil }

    /// Everyone heard so far, in the order they were first heard.
    public var participants: [String] { info.participants }

    /// Meeting time recorded so far.
    public var duration: Duration { .milliseconds(Int64(ticks) * Int64(AudioFormat.frameDurationMilliseconds)) }

    /// The picture kept so far: frames, and whose was shown last.
    public var videoFramesKept: Int { video.framesKept }
    public var shownOnVideo: String? { video.shown }

    /// One participant's decrypted RTP packet: their voice (Opus) or their camera (VP8).
    public func receive(participant: String, packet: RTPPacket) {
        guard !finished else { return }
        guard packet.payloadType == RTPPayloadType.vp8 else {
            return receive(
                participant: participant, opusFrame: packet.payload, sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp)
        }
        guard videoFailure == nil else { return }
        do throws(RecordingError) { try video.receive(packet, from: participant, tick: ticks) } catch { videoFailure = error }
    }

    /// One participant's decrypted Opus frame (48 kHz mono, 20 ms) with its RTP sequence
    /// number and timestamp. Frames may arrive late, twice or out of order; the participant's
    /// jitter buffer sorts them. Empty frames are ignored (they are malformed in Opus).
    public func receive(participant: String, opusFrame: [UInt8], sequenceNumber: UInt16, timestamp: UInt32) {
        guard !finished, !opusFrame.isEmpty else { return }
        let lane: ParticipantLane
        if let existing = lanes[participant] {
            lane = existing
        } else {
            guard let made = try? ParticipantLane(name: participant, tick: ticks) else { return }
            lane = made
            lanes[participant] = made
            if !info.participants.contains(participant) {
                info.participants.append(participant)
                // Best effort mid-recording: `finish` writes the sidecar again and reports failures.
                try? RecordingSidecar.write(info, to: sidecarURL, masterKey: masterKey)
            }
        }
        lane.insert(opusFrame, sequenceNumber: sequenceNumber, timestamp: timestamp, tick: ticks)
    }

    /// A present participant's receive counters (lost, late, concealed…), for the meeting's
    /// own reports; nil once they left.
    public func statistics(for participant: String) -> JitterBufferStatistics? {
        lanes[participant]?.statistics
    }

    /// The participant left the meeting: from the next tick they are silence.
    public func participantLeft(_ participant: String) {
        lanes.removeValue(forKey: participant)
        video.participantLeft(participant)
    }

    /// Mixes, encodes and stores the next 20 ms. Call once per 20 ms of meeting time.
    public func tick() throws(RecordingError) {
        guard !finished else { throw .finished(id: id.rawValue) }
        if let videoFailure { throw videoFailure }
        var frames: [[Int16]] = []
        for (name, lane) in lanes {
            guard let frame = lane.nextFrame() else { continue }
            frames.append(frame)
            energy[name, default: 0] += frame.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(frame.count, 1))
        }
        if ticks % Self.speakerTicks == 0 { chooseSpeaker() }
        let mixed = mixer.mix(frames)
        let packet: [UInt8]
        do { packet = try encoder.encode(mixed) } catch { throw .codec("\(error)") }
        let pages: [UInt8]
        do { pages = try ogg.append(packet) } catch { throw .codec("\(error)") }
        try writer.append(pages)
        ticks += 1
        for (name, lane) in lanes where ticks - lane.lastPacketTick > Self.idleTicks {
            lanes.removeValue(forKey: name)
        }
    }

    /// The loudest voice of the last half second, if it spoke at all, is the one to show.
    private func chooseSpeaker() {
        let loudest = energy.max { $0.value < $1.value }
        energy = [:]
        guard let loudest, loudest.value / Double(Self.speakerTicks) > Self.speakingEnergy else { return }
        video.speaking(loudest.key)
    }

    /// Ends the Ogg stream, writes the FINAL chunk, closes the file and seals the final metadata.
    @discardableResult
    public func finish(ended: Date = Date()) throws(RecordingError) -> RecordingInfo {
        guard !finished else { throw .finished(id: id.rawValue) }
        finished = true
        lanes.removeAll()
        let last: [UInt8]
        do { last = try ogg.finish(originalLength: ticks * AudioFormat.samplesPerFrame) } catch { throw .codec("\(error)") }
        try writer.append(last)
        try writer.finish()
        // A picture whose writes failed ends on its last whole chunk, as the audio would; a
        // picture that cannot be finished does not keep the audio's metadata from being sealed.
        var videoProblem: RecordingError?
        if !video.writeFailed {
            do throws(RecordingError) { try video.finish() } catch { videoProblem = error }
        }
        info.ended = ended
        info.audioSeconds = Double(ticks * AudioFormat.frameDurationMilliseconds) / 1000
        info.byteSize = writer.byteCount
        try RecordingSidecar.write(info, to: sidecarURL, masterKey: masterKey)
        if let videoProblem { throw videoProblem }
        return info
    }
}
