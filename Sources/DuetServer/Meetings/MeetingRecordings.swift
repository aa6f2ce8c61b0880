import DuetMedia
import DuetWire
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The meetings being recorded right now (docs/recordings.md): one `MeetingRecorder` per meeting
/// while its recording is on, fed by the media loop with each participant's decrypted frames
/// (`receive`, called from the SFU room), ticked every 20 ms by this service's own loop, and
/// finished when the recording stops, the meeting ends or the server shuts down — so a
/// recording is never left without its final chunk by a clean stop.
///
/// Shared by signaling (start, stop, leaves) and the media loop (frames): the recorders are
/// not thread-safe, so every use of one happens under `state`'s mutex, held for one frame's
/// work or one tick (a small append to the file); nothing awaits under it.
///
/// A recorder whose file cannot be written (the disk filled) is stopped at once and its meeting
/// named on `stopped`, for signaling to tell the participants; the meeting itself goes on.
final class MeetingRecordings: Service, Sendable {
    /// A recording the server had to stop, and what to tell the meeting's participants.
    struct Stopped: Sendable {
        let code: String
        let notice: String
    }

    private let dataDirectory: URL
    private let logger: Logger
    private let state = Mutex<[String: MeetingRecorder]>([:])
    /// Ends when this service does.
    let stopped: AsyncStream<Stopped>
    private let stoppedSink: AsyncStream<Stopped>.Continuation
    /// Where recordings are listed across nodes; nil on a one-node server (`indexing(in:)`).
    private let index = Mutex<RecordingIndex?>(nil)
    /// Starts and ends on their way to the index, written in order by `run`'s own task.
    private let changes = AsyncStream.makeStream(of: RecordingIndex.Change.self)

    init(dataDirectory: URL, logger: Logger) {
        self.dataDirectory = dataDirectory
        self.logger = logger
        (stopped, stoppedSink) = AsyncStream.makeStream(of: Stopped.self)
    }

    /// From now on, recordings' starts and ends go to `index` (a node of several).
    func indexing(in index: RecordingIndex) {
        self.index.withLock { $0 = index }
    }

    /// Starts recording `code` (no-op if it is already recording).
    func start(_ code: String) throws(RecordingError) {
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: dataDirectory)
        let (dataDirectory, changes, now) = (dataDirectory, changes.continuation, Date())
        let started: RecordingID? = try state.withLock { (recorders) throws(RecordingError) -> RecordingID? in
            guard recorders[code] == nil else { return nil }
            let recorder = try MeetingRecorder(
                id: RecordingID.make(), meetingCode: code, dataDirectory: dataDirectory, masterKey: key, started: now)
            recorders[code] = recorder
            // Under the lock: a stop (which takes the recorder out under it) yields its end after this.
            changes.yield(.started(id: recorder.id.rawValue, at: now))
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
        state.withLock { $0[code]?.receive(participant: participant, packet: packet) }
    }

    func participantLeft(_ code: String, participant: String) {
        state.withLock { $0[code]?.participantLeft(participant) }
    }

    /// Ticks every recorder every 20 ms until shutdown, then finishes them all.
    func run() async throws {
        defer { stoppedSink.finish() }
        let indexer = Task {
            for await change in changes.stream { await index.withLock { $0 }?.record(change) }
        }
        var beat = FrameClock()
        while !Task.isShuttingDownGracefully, await beat.nextFrame() {
            let failed = state.withLock { recorders -> [(String, MeetingRecorder, RecordingError)] in
                var failed: [(String, MeetingRecorder, RecordingError)] = []
                for (code, recorder) in recorders {
                    do throws(RecordingError) { try recorder.tick() } catch { failed.append((code, recorder, error)) }
                }
                for (code, _, _) in failed { recorders[code] = nil }
                return failed
            }
            for (code, recorder, error) in failed { stopFailed(code, recorder, error) }
        }
        for code in active { stop(code) }
        // The last ends reach the index before the directory closes.
        // Bounded: with the database gone each write would wait out its own timeout.
        self.changes.continuation.finish()
        let deadline = Task {
            try? await Task.sleep(for: .seconds(5))
            indexer.cancel()
        }
        await indexer.value
        deadline.cancel()
    }

    /// One error line per failed recording (it stops, so it cannot repeat), then the notice.
    private func stopFailed(_ code: String, _ recorder: MeetingRecorder, _ error: RecordingError) {
        logger.error(
            "recording stopped; the meeting goes on unrecorded",
            metadata: [
                "meeting": "\(code)", "recording": "\(recorder.id)", "error": "\(error)"
            ])
        // A recorder that failed for another reason (the codec) can still close its file properly.
        if !recorder.writeFailed { finish(recorder) }
        let why = if case .diskFull = error { StorageFailure.full.summary } else { "the server could not write the recording" }
        stoppedSink.yield(
            Stopped(
                code: code, notice: "recording stopped: \(why); the meeting goes on unrecorded, and what was recorded until now is kept"))
    }

    private func finish(_ recorder: MeetingRecorder) {
        do {
            let info = try recorder.finish()
            changes.continuation.yield(.ended(id: info.id, started: info.started, at: info.ended ?? Date()))
            logger.info("recording finished", metadata: ["recording": "\(info.id)", "seconds": "\(info.audioSeconds)"])
        } catch {
            logger.error("could not finish a recording", metadata: ["recording": "\(recorder.id)", "error": "\(error)"])
        }
    }
}
