import DuetMedia
import DuetWire
import Foundation

/// The operator's side of recordings (`duet server recordings list|export`): what is stored,
/// and a way to get one back as a plain Ogg Opus file, or a WebM file with its picture.
///
/// Export hands out authenticated audio only: it is decrypted into a temporary file next to
/// the destination and renamed into place only after every chunk in the file authenticated.
/// A tampered or foreign file gives a `RecordingError` and leaves no output at all. A file that
/// stops before its FINAL chunk (the server stopped, or its disk filled, mid-recording) exports
/// up to its last whole chunk — trimmed to the last whole Ogg page, so it plays to the end —
/// and the result says it is incomplete, so a cut-short recording never passes for a whole one.
public struct RecordingVault: Sendable {
    static let fileExtension = "duetrec"

    public let dataDirectory: URL
    private let masterKey: RecordingMasterKey

    /// A vault over `dataDirectory`'s recordings, with the key in its `recordings.key`.
    /// Throws `noMasterKey` if the data dir never recorded (the key is never made here).
    public init(dataDirectory: URL) throws(RecordingError) {
        try self.init(dataDirectory: dataDirectory, masterKey: RecordingMasterKey.load(dataDirectory: dataDirectory))
    }

    /// A vault with an explicit key (tests; an operator's offline copy of the key).
    public init(dataDirectory: URL, masterKey: RecordingMasterKey) {
        self.dataDirectory = dataDirectory
        self.masterKey = masterKey
    }

    private var folder: URL { MeetingRecorder.directory(in: dataDirectory) }

    func fileURL(_ id: RecordingID) -> URL { folder.appendingPathComponent("\(id.rawValue).\(Self.fileExtension)") }

    /// Every recording in the data dir, oldest first. Recordings still in progress (or cut
    /// short by a crash) are listed with no end time.
    public func list() throws(RecordingError) -> [RecordingInfo] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            if !FileManager.default.fileExists(atPath: folder.path) { return [] }
            throw .io(operation: "list", path: folder.path, reason: "\(error)")
        }
        var result: [RecordingInfo] = []
        for name in names where name.hasSuffix(".\(Self.fileExtension)") {
            let id = String(name.dropLast(Self.fileExtension.count + 1))
            let sidecar = folder.appendingPathComponent("\(id).\(RecordingSidecar.fileExtension)")
            let file = folder.appendingPathComponent(name)
            var info: RecordingInfo
            do {
                info = try RecordingSidecar.read(sidecar, id: id, masterKey: masterKey)
            } catch {
                // Caught then tested (a typed `catch` pattern in a loop crashed Swift 6.3).
                // The whole vault is under another key: say so rather than list every file as damaged.
                if case .wrongMasterKey = error { throw error }
                // One lost or damaged sidecar must not hide the other recordings.
                info = RecordingInfo(
                    id: id, meetingCode: "?", started: Self.modified(file), ended: nil, participants: [],
                    audioSeconds: 0, byteSize: 0, problem: "metadata unreadable: \(error)")
            }
            info.byteSize = Self.size(of: file)
            result.append(info)
        }
        return result.sorted { ($0.started, $0.id) < ($1.started, $1.id) }
    }

    /// Decrypts recording `id` to `destination` (replacing it if it exists): an Ogg Opus file
    /// of the mixed audio, or — when the destination's name ends in `.webm` — a WebM file with
    /// the picture too (docs/recordings.md "Video").
    @discardableResult
    public func export(_ id: RecordingID, to destination: URL) throws(RecordingError) -> RecordingExport {
        let source = fileURL(id)
        guard FileManager.default.fileExists(atPath: source.path) else { throw .notFound(id: id.rawValue, directory: folder.path) }
        if destination.pathExtension.lowercased() == "webm" { return try exportWebM(id, to: destination) }
        let reader = try reader(of: source, id: id)
        var complete = false
        let written = try Self.writeAtomically(to: destination) { (emit) throws(RecordingError) in
            // Whole Ogg pages go out at once; a page the chunk boundary cut waits for the next chunk.
            // (Bytes that are not Ogg pages at all cannot be trimmed to one and go out as they are.)
            var pending: [UInt8] = []
            complete = try reader.decrypt { (plaintext: [UInt8]) throws(RecordingError) in
                pending += plaintext
                let whole = OggOpusReader.wholePages(pending)
                let ready = whole.cutShort ? whole.length : pending.count
                try emit(pending[..<ready])
                pending.removeFirst(ready)
            }
            // Complete: byte for byte what was recorded. Incomplete: the page the end cut is dropped.
            if complete { try emit(pending[...]) }
        }
        let samples = (try? OggOpusReader(contentsOf: destination))?.playbackSamples ?? 0
        return RecordingExport(byteCount: written, isComplete: complete, audioSeconds: Double(samples) / Double(AudioFormat.sampleRate))
    }

    /// The WebM export: the audio's Opus packets every 20 ms and the picture's VP8 frames at
    /// their meeting time, interleaved by time (`WebMMuxer`). Both files are decrypted whole
    /// first — every chunk authenticated — so it holds a recording in memory (about 45 MB an
    /// hour at Duet's rates). A recording without a picture exports with the audio alone.
    private func exportWebM(_ id: RecordingID, to destination: URL) throws(RecordingError) -> RecordingExport {
        let (audioBytes, audioComplete) = try decryptWhole(fileURL(id), id: id)
        let whole = OggOpusReader.wholePages(audioBytes)
        let audio: OggOpusReader
        do { audio = try OggOpusReader(bytes: Array(audioBytes.prefix(whole.length))) } catch {
            throw .codec("the recording's audio: \(error)")
        }
        let videoURL = folder.appendingPathComponent("\(id.rawValue).\(RecordingVideoTrack.fileExtension)")
        var picture: IVFStream.Contents?
        var videoComplete = true
        if FileManager.default.fileExists(atPath: videoURL.path) {
            do throws(RecordingError) {
                let (bytes, complete) = try decryptWhole(videoURL, id: id)
                guard let parsed = IVFStream.parse(bytes) else { throw .notARecording(path: videoURL.path) }
                (picture, videoComplete) = (parsed, complete)
            } catch {
                // Cut short before its first whole chunk (a crash, a full disk): the audio
                // exports alone, marked incomplete. Anything else (tampering) refuses the export.
                guard case .truncated = error else { throw error }
                videoComplete = false
            }
        }
        let milliseconds = audio.packets.count * AudioFormat.frameDurationMilliseconds
        let written = try Self.writeAtomically(to: destination) { (emit) throws(RecordingError) in
            var muxer = WebMMuxer()
            try emit(
                muxer.header(
                    video: picture.map { ($0.width, $0.height) }, opus: audio.head, durationMilliseconds: Double(milliseconds))[...])
            let frames = picture?.frames ?? []
            var (nextAudio, nextVideo) = (0, 0)
            while nextAudio < audio.packets.count || nextVideo < frames.count {
                let audioTime = Int64(nextAudio * AudioFormat.frameDurationMilliseconds)
                if nextVideo < frames.count, nextAudio >= audio.packets.count || Int64(frames[nextVideo].time) <= audioTime {
                    let frame = frames[nextVideo].bytes
                    let keyframe = VP8Payload.isKeyframe(frame[...])
                    try emit(
                        muxer.block(frame, track: WebMMuxer.videoTrack, milliseconds: Int64(frames[nextVideo].time), keyframe: keyframe)[
                            ...])
                    nextVideo += 1
                } else {
                    try emit(
                        muxer.block(audio.packets[nextAudio], track: WebMMuxer.audioTrack, milliseconds: audioTime, keyframe: true)[...])
                    nextAudio += 1
                }
            }
        }
        return RecordingExport(
            byteCount: written, isComplete: audioComplete && videoComplete && !whole.cutShort,
            audioSeconds: Double(audio.playbackSamples) / Double(AudioFormat.sampleRate), videoFrames: picture?.frames.count ?? 0)
    }

    /// A reader of `url` whose header names recording `id`: a file renamed to another
    /// recording's id must not be exported as that recording.
    private func reader(of url: URL, id: RecordingID) throws(RecordingError) -> EncryptedRecordingReader {
        let reader = EncryptedRecordingReader(url: url, masterKey: masterKey)
        let (header, _) = try reader.header()
        guard header.id == id else { throw .tampered(id: id.rawValue, offset: RecordingFileHeader.magic.count + 2) }
        return reader
    }

    /// Every authenticated byte of `url`, and whether it reached its FINAL chunk.
    func decryptWhole(_ url: URL, id: RecordingID) throws(RecordingError) -> (bytes: [UInt8], complete: Bool) {
        var bytes: [UInt8] = []
        let complete = try reader(of: url, id: id).decrypt { (plaintext: [UInt8]) throws(RecordingError) in bytes += plaintext }
        return (bytes, complete)
    }

    /// Writes what `body` emits into a temporary file next to `destination` (0600), renamed
    /// into place only once `body` finished: a failure leaves no output at all. The bytes written.
    private static func writeAtomically(
        to destination: URL, _ body: (_ emit: (ArraySlice<UInt8>) throws(RecordingError) -> Void) throws(RecordingError) -> Void
    ) throws(RecordingError) -> Int {
        let temporary = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).partial-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw .io(operation: "create", path: temporary.path, reason: "the destination folder is missing or not writable")
        }
        var keep = false
        defer { if !keep { unlink(temporary.path) } }
        let output: FileHandle
        do { output = try FileHandle(forWritingTo: temporary) } catch {
            throw .io(operation: "open", path: temporary.path, reason: "\(error)")
        }
        defer { try? output.close() }
        var written = 0
        try body { (bytes) throws(RecordingError) in
            do { try output.write(contentsOf: bytes) } catch {
                throw .io(operation: "write", path: temporary.path, reason: "\(error)")
            }
            written += bytes.count
        }
        do { try output.synchronize() } catch { throw .io(operation: "sync", path: temporary.path, reason: "\(error)") }
        guard rename(temporary.path, destination.path) == 0 else {
            throw .io(operation: "move the export to", path: destination.path, reason: String(cString: strerror(errno)))
        }
        keep = true
        return written
    }

    private static func modified(_ url: URL) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
    }

    private static func size(of url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
