import DuetMedia
import Foundation

/// The operator's side of recordings (`duet server recordings list|export`): what is stored,
/// and a way to get one back as a plain Ogg Opus file.
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

    /// Decrypts recording `id` into an Ogg Opus file at `destination` (replacing it if it
    /// exists).
    @discardableResult
    public func export(_ id: RecordingID, to destination: URL) throws(RecordingError) -> RecordingExport {
        let source = fileURL(id)
        guard FileManager.default.fileExists(atPath: source.path) else { throw .notFound(id: id.rawValue, directory: folder.path) }
        let reader = EncryptedRecordingReader(url: source, masterKey: masterKey)
        let (header, _) = try reader.header()
        // A file renamed to another recording's id must not be exported as that recording.
        guard header.id == id else { throw .tampered(id: id.rawValue, offset: RecordingFileHeader.magic.count + 2) }

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
        func emit(_ bytes: ArraySlice<UInt8>) throws(RecordingError) {
            do { try output.write(contentsOf: bytes) } catch {
                throw .io(operation: "write", path: temporary.path, reason: "\(error)")
            }
            written += bytes.count
        }
        // Whole Ogg pages go out at once; a page the chunk boundary cut waits for the next chunk.
        // (Bytes that are not Ogg pages at all cannot be trimmed to one and go out as they are.)
        var pending: [UInt8] = []
        let complete = try reader.decrypt { (plaintext: [UInt8]) throws(RecordingError) in
            pending += plaintext
            let whole = OggOpusReader.wholePages(pending)
            let ready = whole.cutShort ? whole.length : pending.count
            try emit(pending[..<ready])
            pending.removeFirst(ready)
        }
        // Complete: byte for byte what was recorded. Incomplete: the page the end cut is dropped.
        if complete { try emit(pending[...]) }
        do { try output.synchronize() } catch { throw .io(operation: "sync", path: temporary.path, reason: "\(error)") }
        guard rename(temporary.path, destination.path) == 0 else {
            throw .io(operation: "move the export to", path: destination.path, reason: String(cString: strerror(errno)))
        }
        keep = true
        let samples = (try? OggOpusReader(contentsOf: destination))?.playbackSamples ?? 0
        return RecordingExport(byteCount: written, isComplete: complete, audioSeconds: Double(samples) / Double(AudioFormat.sampleRate))
    }

    private static func modified(_ url: URL) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
    }

    private static func size(of url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
