import Foundation

/// The operator's side of recordings (`duet server recordings list|export`): what is stored,
/// and a way to get one back as a plain Ogg Opus file.
///
/// Export is all or nothing: the audio is decrypted into a temporary file next to the
/// destination and renamed into place only after every chunk authenticated and the FINAL
/// chunk was seen. A truncated, tampered or foreign file gives a `RecordingError` and leaves
/// no output at all, so a half-exported recording can never pass for a whole one.
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
                info = RecordingInfo(id: id, meetingCode: "?", started: Self.modified(file), ended: nil, participants: [],
                                     audioSeconds: 0, byteSize: 0, problem: "metadata unreadable: \(error)")
            }
            info.byteSize = Self.size(of: file)
            result.append(info)
        }
        return result.sorted { ($0.started, $0.id) < ($1.started, $1.id) }
    }

    /// Decrypts recording `id` into an Ogg Opus file at `destination` (replacing it if it
    /// exists). Returns the number of bytes written.
    @discardableResult
    public func export(_ id: RecordingID, to destination: URL) throws(RecordingError) -> Int {
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
        try reader.decrypt { (plaintext: [UInt8]) throws(RecordingError) in
            do { try output.write(contentsOf: plaintext) } catch {
                throw .io(operation: "write", path: temporary.path, reason: "\(error)")
            }
            written += plaintext.count
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
