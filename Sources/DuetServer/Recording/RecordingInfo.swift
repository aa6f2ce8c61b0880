import Foundation

/// What `RecordingVault.list()` tells about one recording: the metadata the recorder sealed
/// in its sidecar, and the size of the encrypted file as it is on disk now.
public struct RecordingInfo: Sendable, Equatable, Codable {
    public var id: String
    public var meetingCode: String
    public var started: Date
    /// Nil while recording, or if the server stopped before `finish()`.
    public var ended: Date?
    /// Everyone heard, in the order they were first heard.
    public var participants: [String]
    /// Seconds of mixed audio written.
    public var audioSeconds: Double
    /// Bytes of the encrypted file on disk (not part of the sealed record).
    public var byteSize: Int
    /// Set by `list()` when the sidecar is missing or damaged: the recording is still listed
    /// (and may still export), with its file's date and no meeting details.
    public var problem: String?

    public init(
        id: String, meetingCode: String, started: Date, ended: Date?, participants: [String], audioSeconds: Double, byteSize: Int,
        problem: String? = nil
    ) {
        self.problem = problem
        self.id = id
        self.meetingCode = meetingCode
        self.started = started
        self.ended = ended
        self.participants = participants
        self.audioSeconds = audioSeconds
        self.byteSize = byteSize
    }
}

/// The metadata sidecar `<id>.meta` beside each recording: `master key id (8) ‖
/// XChaCha20-Poly1305(master key, JSON)` with the recording id as associated data. It is
/// sealed because who met, and when, is as private as what they said; it is replaced by an
/// atomic rename, so a reader sees the old record or the new one, never half of one.
enum RecordingSidecar {
    static let fileExtension = "meta"

    static func associatedData(_ id: String) -> [UInt8] { Array("duet recording metadata v1 \(id)".utf8) }

    static func write(_ info: RecordingInfo, to url: URL, masterKey: RecordingMasterKey) throws(RecordingError) {
        let json: Data
        do {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .secondsSince1970
            json = try encoder.encode(info)
        } catch {
            throw .io(operation: "encode the metadata of", path: url.path, reason: "\(error)")
        }
        let sealed = masterKey.keyID + masterKey.sealRecord(Array(json), associatedData: associatedData(info.id))
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)")
        try writeNew(sealed, to: temporary.path)
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw .io(operation: "replace the metadata", path: url.path, reason: reason)
        }
    }

    /// A new file (0600) holding `bytes`, synced; on failure nothing is left behind.
    private static func writeNew(_ bytes: [UInt8], to path: String) throws(RecordingError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw .writing(path, operation: "write the metadata", errno: errno) }
        var code = WholeWrite.write(bytes, to: fd)
        if code == 0, fsync(fd) != 0 { code = errno }
        close(fd)
        guard code != 0 else { return }
        unlink(path)
        throw .writing(path, operation: "write the metadata", errno: code)
    }

    static func read(_ url: URL, id: String, masterKey: RecordingMasterKey) throws(RecordingError) -> RecordingInfo {
        guard let bytes = FileManager.default.contents(atPath: url.path).map(Array.init) else {
            throw .io(operation: "read the metadata", path: url.path, reason: "missing or unreadable")
        }
        let keyIDCount = RecordingMasterKey.idCount
        guard bytes.count > keyIDCount else { throw .tampered(id: id, offset: bytes.count) }
        guard Array(bytes.prefix(keyIDCount)) == masterKey.keyID else { throw .wrongMasterKey(id: id) }
        guard let json = masterKey.openRecord(Array(bytes.dropFirst(keyIDCount)), associatedData: associatedData(id)) else {
            throw .tampered(id: id, offset: keyIDCount)
        }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .secondsSince1970
            return try decoder.decode(RecordingInfo.self, from: Data(json))
        } catch {
            throw .tampered(id: id, offset: keyIDCount)
        }
    }
}
