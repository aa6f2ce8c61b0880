import DuetMedia
import DuetWire
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The meetings being recorded right now (issue [7/9] §4): one `MeetingRecorder` per meeting
/// while its recording is on, fed by the media loop with each participant's decrypted frames
/// (`receive`, called from the SFU room), ticked every 20 ms by this service's own loop, and
/// finished when the recording stops, the meeting ends or the server shuts down — so a
/// recording is never left without its final chunk by a clean stop.
///
/// Shared by signaling (start, stop, leaves) and the media loop (frames): the recorders are
/// not thread-safe, so every use of one happens under `state`'s mutex, held for one frame's
/// work or one tick (a small append to the file); nothing awaits under it.
final class MeetingRecordings: Service, Sendable {
    private let dataDirectory: URL
    private let logger: Logger
    private let state = Mutex<[String: MeetingRecorder]>([:])

    init(dataDirectory: URL, logger: Logger) {
        self.dataDirectory = dataDirectory
        self.logger = logger
    }

    /// Starts recording `code` (no-op if it is already recording).
    func start(_ code: String) throws(RecordingError) {
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: dataDirectory)
        let dataDirectory = dataDirectory
        let started: RecordingID? = try state.withLock { (recorders) throws(RecordingError) -> RecordingID? in
            guard recorders[code] == nil else { return nil }
            let recorder = try MeetingRecorder(id: RecordingID.make(), meetingCode: code, dataDirectory: dataDirectory, masterKey: key)
            recorders[code] = recorder
            return recorder.id
        }
        if let started { logger.info("recording started", metadata: ["meeting": "\(code)", "recording": "\(started)"]) }
    }

    /// Stops recording `code` and closes its file with the final chunk.
    func stop(_ code: String) {
        guard let recorder = state.withLock({ $0.removeValue(forKey: code) }) else { return }
        finish(recorder)
    }

    var active: Set<String> { state.withLock { Set($0.keys) } }

    /// A participant's decrypted RTP packet (from the media loop); ignored unless `code` records.
    func receive(_ code: String, participant: String, packet: RTPPacket) {
        state.withLock { recorders in
            recorders[code]?.receive(participant: participant, opusFrame: packet.payload,
                                     sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp)
        }
    }

    func participantLeft(_ code: String, participant: String) {
        state.withLock { $0[code]?.participantLeft(participant) }
    }

    /// Ticks every recorder every 20 ms until shutdown, then finishes them all.
    func run() async throws {
        var beat = FrameClock()
        while !Task.isShuttingDownGracefully, await beat.nextFrame() {
            let failed = state.withLock { recorders -> [(String, MeetingRecorder, String)] in
                var failed: [(String, MeetingRecorder, String)] = []
                for (code, recorder) in recorders {
                    do { try recorder.tick() } catch { failed.append((code, recorder, "\(error)")) }
                }
                for (code, _, _) in failed { recorders[code] = nil }
                return failed
            }
            for (code, recorder, error) in failed {
                logger.error("recording failed; stopped", metadata: ["meeting": "\(code)", "error": "\(error)"])
                finish(recorder)
            }
        }
        for code in active { stop(code) }
    }

    private func finish(_ recorder: MeetingRecorder) {
        do {
            let info = try recorder.finish()
            logger.info("recording finished", metadata: ["recording": "\(info.id)", "seconds": "\(info.audioSeconds)"])
        } catch {
            logger.error("could not finish a recording", metadata: ["recording": "\(recorder.id)", "error": "\(error)"])
        }
    }
}
