import Foundation

/// The file a recording streams into (`WAVWriter`, `IVFWriter`): made with its header, open
/// for writing at its end. A file that cannot be made is an error naming it and what to check.
enum RecordingFile {
    static func create(at url: URL, header: [UInt8], kind: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: url.path, contents: Data(header)) else {
            throw CocoaError(
                .fileWriteUnknown,
                userInfo: [
                    NSFilePathErrorKey: url.path,
                    NSLocalizedDescriptionKey: "cannot create \(kind) file at \(url.path); check the directory exists and is writable"
                ])
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        return handle
    }
}
