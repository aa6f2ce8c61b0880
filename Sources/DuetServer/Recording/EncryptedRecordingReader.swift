import DuetCrypto
import Foundation

/// Decrypts a recording file chunk by chunk and hands each authenticated plaintext to its
/// caller, so an export never holds the whole recording. Only authenticated bytes are ever
/// handed on. A file whose chunks all authenticate, in order, ending with the FINAL one, is
/// complete; one that stops before FINAL (the server died, or its disk filled, mid-recording)
/// is incomplete: every whole chunk is handed on, and what follows the last one — part of a
/// chunk, part of a length — is ignored. Anything that does not authenticate, and any byte
/// after FINAL, is a typed error naming the byte where the file stopped making sense.
struct EncryptedRecordingReader {
    /// Larger chunks than any writer makes are damage, not data (a flipped length byte).
    static let maximumChunkBytes = 1 << 20

    let url: URL
    let masterKey: RecordingMasterKey

    /// Reads the header only: which recording this is, and whether the key fits.
    func header() throws(RecordingError) -> (RecordingFileHeader, length: Int) {
        let handle = try openFile()
        defer { try? handle.close() }
        return try readHeader(handle)
    }

    /// Decrypts the file, passing plaintext to `sink` chunk by chunk; returns whether it was
    /// complete. A file that ends before its first whole chunk has nothing authenticated to
    /// give and is `truncated`.
    func decrypt(into sink: ([UInt8]) throws(RecordingError) -> Void) throws(RecordingError) -> Bool {
        let handle = try openFile()
        defer { try? handle.close() }
        let (header, headerLength) = try readHeader(handle)
        let id = header.id.rawValue
        guard header.masterKeyID == masterKey.keyID else { throw .wrongMasterKey(id: id) }
        guard let recordingKey = masterKey.unwrap(header.wrappedKey, associatedData: header.wrappingAssociatedData) else {
            throw .tampered(id: id, offset: header.wrappedKeyOffset)
        }
        let stream: SecretStream.Pull
        do { stream = try SecretStream.Pull(key: recordingKey, header: header.streamHeader) } catch {
            throw .tampered(id: id, offset: headerLength - SecretStream.headerCount)
        }
        var offset = headerLength
        var first = true
        /// The file stopped before FINAL: incomplete, unless not even one chunk authenticated.
        func endedEarly() throws(RecordingError) -> Bool {
            guard !first else { throw .truncated(id: id) }
            return false
        }
        while true {
            let lengthBytes = try read(handle, count: 4)
            if lengthBytes.isEmpty { return stream.sawFinal ? true : try endedEarly() }
            // Anything after the FINAL chunk was appended by someone else.
            guard !stream.sawFinal else { throw .tampered(id: id, offset: offset) }
            guard lengthBytes.count == 4 else { return try endedEarly() }
            let length = lengthBytes.reduce(0) { $0 << 8 | Int($1) }
            guard length >= SecretStream.overhead, length <= Self.maximumChunkBytes else { throw .tampered(id: id, offset: offset) }
            let chunk = try read(handle, count: length)
            guard chunk.count == length else { return try endedEarly() }
            let opened: (plaintext: [UInt8], tag: SecretStream.Tag)
            do {
                opened = try stream.pull(chunk, associatedData: first ? header.serialised() : [])
            } catch {
                throw .tampered(id: id, offset: offset)
            }
            first = false
            try sink(opened.plaintext)
            offset += 4 + length
        }
    }

    private func openFile() throws(RecordingError) -> FileHandle {
        do { return try FileHandle(forReadingFrom: url) } catch {
            throw .io(operation: "open the recording", path: url.path, reason: "\(error)")
        }
    }

    private func readHeader(_ handle: FileHandle) throws(RecordingError) -> (RecordingFileHeader, length: Int) {
        let prefix = try read(handle, count: 256)
        switch RecordingFileHeader.parse(prefix) {
        case let .header(header, length):
            do { try handle.seek(toOffset: UInt64(length)) } catch {
                throw .io(operation: "read the recording", path: url.path, reason: "\(error)")
            }
            return (header, length)
        case .short: throw .truncated(id: url.deletingPathExtension().lastPathComponent)
        case .notARecording: throw .notARecording(path: url.path)
        case let .unsupportedVersion(version): throw .unsupportedVersion(version)
        case let .badID(offset): throw .tampered(id: url.deletingPathExtension().lastPathComponent, offset: offset)
        }
    }

    /// Up to `count` bytes; fewer only at the end of the file.
    private func read(_ handle: FileHandle, count: Int) throws(RecordingError) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            let data: Data?
            do { data = try handle.read(upToCount: count - bytes.count) } catch {
                throw .io(operation: "read the recording", path: url.path, reason: "\(error)")
            }
            guard let data, !data.isEmpty else { break }
            bytes += data
        }
        return bytes
    }
}
