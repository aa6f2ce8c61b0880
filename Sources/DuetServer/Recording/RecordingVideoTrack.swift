import DuetMedia
import DuetWire
import Foundation

/// The picture of a meeting's recording (docs/recordings.md "Video"): the active speaker's
/// VP8 frames as they came, each stamped with meeting time, kept as an IVF stream in its own
/// file beside the audio, encrypted the same way (`EncryptedRecordingWriter`, a key of its own).
///
/// Whose picture: the speaker the recorder names (`speaking`) once one of their keyframes
/// comes — a picture cannot start on a frame that needs earlier ones — and until then whoever
/// was shown; with nobody shown yet, or the one shown sending nothing for `staleTicks`, the
/// first keyframe from anyone. Frames are put together per participant (`VP8FrameAssembler`),
/// so a participant's lost packet costs only their own frames.
///
/// Not Sendable: its recorder owns it.
final class RecordingVideoTrack {
    /// 2 s without a frame from the one shown: their camera is off, or they left.
    static let staleTicks = 100
    static let fileExtension = "duetrec-video"

    let url: URL
    private let id: RecordingID
    private let masterKey: RecordingMasterKey
    private let chunkSize: Int
    /// Made with the first picture kept: a meeting without cameras has no video file.
    private var writer: EncryptedRecordingWriter?
    private var assemblers: [String: VP8FrameAssembler] = [:]
    private var lastFrameTick: [String: Int] = [:]
    private(set) var shown: String?
    private var speaker: String?
    private(set) var framesKept = 0
    private var lastTime: UInt64?
    /// The picture lost a frame of the one shown: nothing is kept until their next keyframe.
    private var waitingForKeyframe = false
    private var droppedSeen: [String: Int] = [:]
    /// How far ahead of meeting time a burst of frames may be stamped.
    static let maximumLeadMilliseconds: UInt64 = 1_000

    init(folder: URL, id: RecordingID, masterKey: RecordingMasterKey, chunkSize: Int) {
        url = folder.appendingPathComponent("\(id.rawValue).\(Self.fileExtension)")
        self.id = id
        self.masterKey = masterKey
        self.chunkSize = chunkSize
    }

    /// The recorder's active speaker (nil: nobody speaks now, and the picture stays).
    func speaking(_ participant: String?) {
        if let participant { speaker = participant }
    }

    /// One decrypted VP8 packet of `participant`'s camera, at meeting tick `tick`.
    func receive(_ packet: RTPPacket, from participant: String, tick: Int) throws(RecordingError) {
        var assembler = assemblers.removeValue(forKey: participant) ?? VP8FrameAssembler()
        let frames = assembler.take(packet, outage: false) ?? []
        // A frame of theirs given up: what follows refers to it, and would record broken
        // pictures until their next keyframe.
        if assembler.framesDropped != droppedSeen[participant, default: 0] {
            droppedSeen[participant] = assembler.framesDropped
            if participant == shown { waitingForKeyframe = true }
        }
        assemblers[participant] = assembler
        for frame in frames {
            lastFrameTick[participant] = tick
            if frame.isKeyframe, participant != shown, takesOver(participant, at: tick) { shown = participant }
            guard participant == shown else { continue }
            if frame.isKeyframe { waitingForKeyframe = false }
            guard !waitingForKeyframe else { continue }
            try keep(frame, at: tick)
        }
    }

    /// Whether a keyframe from `participant` makes them the one shown.
    private func takesOver(_ participant: String, at tick: Int) -> Bool {
        if participant == speaker { return true }
        guard let shown else { return true }
        return tick - (lastFrameTick[shown] ?? 0) > Self.staleTicks
    }

    private func keep(_ frame: RTPAssembledFrame, at tick: Int) throws(RecordingError) {
        if writer == nil {
            guard frame.isKeyframe, let size = VP8Payload.keyframeSize(frame.bytes[...]) else { return }
            let made = try EncryptedRecordingWriter(url: url, id: id, masterKey: masterKey, chunkSize: chunkSize)
            writer = made
            try made.append(IVFStream.header(width: size.width, height: size.height, unitsPerSecond: 1000, frames: 0))
        }
        // Two frames in one tick (a burst, or the switch to another camera) still get times
        // that increase, as players require; a sender sending far faster than real time does
        // not push the picture ahead of the sound (nor fill the disk): its frames beyond a
        // second ahead are not kept, and the picture waits for a keyframe in time.
        let now = UInt64(tick * AudioFormat.frameDurationMilliseconds)
        let milliseconds = max(now, lastTime.map { $0 + 1 } ?? 0)
        guard milliseconds <= now + Self.maximumLeadMilliseconds else {
            waitingForKeyframe = true
            return
        }
        lastTime = milliseconds
        try writer?.append(IVFStream.frame(frame.bytes, time: milliseconds))
        framesKept += 1
    }

    /// A participant left: their frames in waiting go.
    func participantLeft(_ participant: String) {
        assemblers[participant] = nil
        lastFrameTick[participant] = nil
        droppedSeen[participant] = nil
    }

    /// Closes the file with its final chunk (nothing to do if no picture was kept).
    func finish() throws(RecordingError) {
        try writer?.finish()
    }

    /// The file could not be written (a full disk): it ends on its last whole chunk.
    var writeFailed: Bool { writer?.failure != nil }
}
