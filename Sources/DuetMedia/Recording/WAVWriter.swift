import Foundation

/// Streams a call's received audio to a WAV file as it plays, so a long call never sits in
/// memory and a crash still leaves a playable file (sizes are patched on every `flush`).
///
/// Not Sendable: one task owns a recording.
public final class WAVWriter {
    public let url: URL
    private let file: RecordingFile
    private var dataBytes = 0

    public init(url: URL) throws {
        self.url = url
        file = try RecordingFile(at: url, header: WAVFile.header(dataBytes: 0), kind: "WAV")
    }

    deinit {
        if !file.closed { try? close() }
    }

    public func append(_ samples: [Int16]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(samples.count * 2)
        for sample in samples { bytes.appendLittleEndian(sample) }
        try file.append(bytes)
        dataBytes += bytes.count
    }

    /// Rewrites the header's sizes so the file is complete up to here.
    public func flush() throws { try file.rewriteHeader(WAVFile.header(dataBytes: dataBytes)) }

    public func close() throws { try file.close(header: WAVFile.header(dataBytes: dataBytes)) }
}
