import DuetCrypto
import Foundation

/// Writes a recording file as the audio arrives: the clear header, then secretstream chunks
/// of at most `chunkSize` plaintext bytes, the last one tagged FINAL by `finish()`. Only one
/// chunk's worth of plaintext is ever held, and a crash leaves a file the vault reports as
/// truncated rather than one that silently ends early.
///
/// The file is created with O_EXCL and mode 0600. Not Sendable: its recorder owns it.
final class EncryptedRecordingWriter {
    /// 16 KiB ≈ 4 s of 32 kbit/s audio: little lost in a crash, little framing overhead (< 0.2 %).
    static let defaultChunkSize = 16 * 1024

    let url: URL
    let chunkSize: Int
    private let id: RecordingID
    private let handle: FileHandle
    private let stream: SecretStream.Push
    private let header: [UInt8]
    private var pending: [UInt8] = []
    private var chunksWritten = 0
    private var finished = false
    /// Bytes written to the file so far.
    private(set) var byteCount = 0

    init(url: URL, id: RecordingID, masterKey: RecordingMasterKey, chunkSize: Int = defaultChunkSize) throws(RecordingError) {
        self.url = url
        self.id = id
        self.chunkSize = chunkSize
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .alreadyExists(id: id.rawValue) }
            throw .io(operation: "create the recording", path: url.path, reason: String(cString: strerror(errno)))
        }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        // The recording key lives only in this SecureBytes and in the stream state below.
        let recordingKey = SecureBytes(randomCount: SecretStream.keyCount)
        do { stream = try SecretStream.Push(key: recordingKey) } catch { throw .io(operation: "start encrypting", path: url.path, reason: "\(error)") }
        var fileHeader = RecordingFileHeader(id: id, masterKeyID: masterKey.keyID, wrappedKey: [], streamHeader: stream.header)
        fileHeader.wrappedKey = masterKey.wrap(recordingKey, associatedData: fileHeader.wrappingAssociatedData)
        header = fileHeader.serialised()
        try write(header)
    }

    /// Adds plaintext (Ogg pages); full chunks are encrypted and written at once.
    func append(_ bytes: [UInt8]) throws(RecordingError) {
        guard !finished else { throw .finished(id: id.rawValue) }
        pending += bytes
        while pending.count >= chunkSize {
            let chunk = Array(pending.prefix(chunkSize))
            pending.removeFirst(chunkSize)
            try writeChunk(chunk, tag: .message)
        }
    }

    /// Writes what is left as the FINAL chunk (possibly empty), syncs and closes the file.
    func finish() throws(RecordingError) {
        guard !finished else { throw .finished(id: id.rawValue) }
        try writeChunk(pending, tag: .final)
        pending = []
        finished = true
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw .io(operation: "close the recording", path: url.path, reason: "\(error)")
        }
    }

    private func writeChunk(_ plaintext: [UInt8], tag: SecretStream.Tag) throws(RecordingError) {
        // The first chunk authenticates the whole clear header (see RecordingFileHeader).
        let associatedData = chunksWritten == 0 ? header : []
        let sealed: [UInt8]
        do { sealed = try stream.push(plaintext, tag: tag, associatedData: associatedData) } catch {
            throw .io(operation: "encrypt a chunk of", path: url.path, reason: "\(error)")
        }
        let length = UInt32(sealed.count)
        try write([UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + sealed)
        chunksWritten += 1
    }

    private func write(_ bytes: [UInt8]) throws(RecordingError) {
        do { try handle.write(contentsOf: bytes) } catch {
            throw .io(operation: "write the recording", path: url.path, reason: "\(error)")
        }
        byteCount += bytes.count
    }
}
