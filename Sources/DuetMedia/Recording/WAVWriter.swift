import Foundation

/// Streams a call's received audio to a WAV file as it plays, so a long call never sits in
/// memory and a crash still leaves a playable file (sizes are patched on every `flush`).
///
/// Not Sendable: one task owns a recording.
public final class WAVWriter {
    public let url: URL
    private let handle: FileHandle
    private var dataBytes = 0
    private var closed = false

    public init(url: URL) throws {
        self.url = url
        handle = try RecordingFile.create(at: url, header: WAVFile.header(dataBytes: 0), kind: "WAV")
    }

    deinit {
        if !closed { try? close() }
    }

    public func append(_ samples: [Int16]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(samples.count * 2)
        for sample in samples { bytes.appendLittleEndian(sample) }
        try handle.write(contentsOf: bytes)
        dataBytes += bytes.count
    }

    /// Rewrites the header's sizes so the file is complete up to here.
    public func flush() throws {
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: WAVFile.header(dataBytes: dataBytes))
        try handle.seekToEnd()
    }

    public func close() throws {
        guard !closed else { return }
        closed = true
        try flush()
        try handle.close()
    }
}
