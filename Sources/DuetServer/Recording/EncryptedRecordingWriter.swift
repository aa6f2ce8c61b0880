import DuetCrypto
import Foundation

/// Writes a recording file as the audio arrives: the clear header, then secretstream chunks
/// of at most `chunkSize` plaintext bytes, the last one tagged FINAL by `finish()`. Only one
/// chunk's worth of plaintext is ever held, and a crash leaves a file the vault exports as
/// incomplete rather than one that silently ends early.
///
/// A write that fails (a full disk) stops the writer for good: the part of a chunk it left is
/// cut off, so the file ends on its last complete chunk. Nothing can follow: the stream's state
/// has already moved past the lost chunk, so no later chunk would authenticate after it.
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
    /// Why the writer stopped, once a write failed; every later call throws it again.
    private(set) var failure: RecordingError?
    /// Bytes written to the file so far.
    private(set) var byteCount = 0

    init(url: URL, id: RecordingID, masterKey: RecordingMasterKey, chunkSize: Int = defaultChunkSize) throws(RecordingError) {
        self.url = url
        self.id = id
        self.chunkSize = chunkSize
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .alreadyExists(id: id.rawValue) }
            throw .writing(url.path, operation: "create the recording", errno: errno)
        }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        // The recording key lives only in this SecureBytes and in the stream state below.
        let recordingKey = SecureBytes(randomCount: SecretStream.keyCount)
        do { stream = try SecretStream.Push(key: recordingKey) } catch {
            throw .io(operation: "start encrypting", path: url.path, reason: "\(error)")
        }
        var fileHeader = RecordingFileHeader(id: id, masterKeyID: masterKey.keyID, wrappedKey: [], streamHeader: stream.header)
        fileHeader.wrappedKey = masterKey.wrap(recordingKey, associatedData: fileHeader.wrappingAssociatedData)
        header = fileHeader.serialised()
        do { try writeAll(header) } catch {
            unlink(url.path)  // not even a header: nothing to keep
            throw error
        }
    }

    /// Closes and deletes the file: the recording could not start after all.
    func discard() {
        finished = true
        try? handle.close()
        unlink(url.path)
    }

    /// Adds plaintext (Ogg pages); full chunks are encrypted and written at once.
    func append(_ bytes: [UInt8]) throws(RecordingError) {
        if let failure { throw failure }
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
        if let failure { throw failure }
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
        try writeAll([UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + sealed)
        chunksWritten += 1
    }

    private func writeAll(_ bytes: [UInt8]) throws(RecordingError) {
        if let failure { throw failure }
        let code = WholeWrite.write(bytes, to: handle.fileDescriptor)
        guard code == 0 else { throw stop(errno: code) }
        byteCount += bytes.count
    }

    /// Cuts off what a failed write left of a chunk (shrinking a file needs no free space),
    /// closes the file and keeps the error for every later call.
    private func stop(errno code: Int32) -> RecordingError {
        let error = RecordingError.writing(url.path, operation: "write the recording", errno: code)
        _ = ftruncate(handle.fileDescriptor, off_t(byteCount))
        try? handle.close()
        failure = error
        return error
    }
}
