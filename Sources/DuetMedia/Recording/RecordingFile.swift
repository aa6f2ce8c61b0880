import Foundation

/// The file a recording streams into (`WAVWriter`, `IVFWriter`): made with its header, written
/// at its end, its header rewritten as the recording grows so a file cut short still plays. A
/// file that cannot be made is an error naming it and what to check.
///
/// Not Sendable: one owner writes a recording.
final class RecordingFile {
    private let handle: FileHandle
    private(set) var closed = false

    init(at url: URL, header: [UInt8], kind: String) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: Data(header)) else {
            throw CocoaError(
                .fileWriteUnknown,
                userInfo: [
                    NSFilePathErrorKey: url.path,
                    NSLocalizedDescriptionKey: "cannot create \(kind) file at \(url.path); check the directory exists and is writable"
                ])
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    func append(_ bytes: [UInt8]) throws { try handle.write(contentsOf: bytes) }

    /// Writes `header` over the first bytes; later writes go on at the end.
    func rewriteHeader(_ header: [UInt8]) throws {
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: header)
        try handle.seekToEnd()
    }

    /// The last header, then the file closes (once).
    func close(header: [UInt8]) throws {
        guard !closed else { return }
        closed = true
        try rewriteHeader(header)
        try handle.close()
    }
}
