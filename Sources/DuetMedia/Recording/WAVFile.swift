import Foundation

/// 16-bit PCM mono 48 kHz WAV (RIFF), the format `duet call --wav` saves what was heard in:
/// every audio tool opens it without needing Opus.
public enum WAVFile {
    static let headerLength = 44

    /// A complete file for `samples`.
    public static func bytes(for samples: [Int16]) -> [UInt8] {
        var bytes = header(dataBytes: samples.count * 2)
        bytes.reserveCapacity(headerLength + samples.count * 2)
        for sample in samples { bytes.appendLittleEndian(sample) }
        return bytes
    }

    public static func write(_ samples: [Int16], to url: URL) throws {
        try Data(bytes(for: samples)).write(to: url)
    }

    /// The 44-byte canonical header: RIFF, a 16-byte "fmt " chunk (PCM), then "data".
    static func header(dataBytes: Int) -> [UInt8] {
        let rate = UInt32(AudioFormat.sampleRate)
        let channels = UInt16(AudioFormat.channels)
        let bytesPerSample: UInt16 = 2
        var bytes: [UInt8] = Array("RIFF".utf8)
        bytes.appendLittleEndian(UInt32(clamping: 36 + dataBytes))
        bytes += Array("WAVE".utf8)
        bytes += Array("fmt ".utf8)
        bytes.appendLittleEndian(UInt32(16))
        bytes.appendLittleEndian(UInt16(1))  // WAVE_FORMAT_PCM
        bytes.appendLittleEndian(channels)
        bytes.appendLittleEndian(rate)
        bytes.appendLittleEndian(rate * UInt32(channels * bytesPerSample))  // byte rate
        bytes.appendLittleEndian(channels * bytesPerSample)  // block align
        bytes.appendLittleEndian(bytesPerSample * 8)
        bytes += Array("data".utf8)
        bytes.appendLittleEndian(UInt32(clamping: dataBytes))
        return bytes
    }

    /// Reads 16-bit PCM mono 48 kHz WAV, skipping chunks it does not need (LIST, fact, …).
    /// Accepts WAVE_FORMAT_EXTENSIBLE with a PCM subformat, which some tools write.
    public static func read(_ data: [UInt8]) throws(WAVError) -> [Int16] {
        guard data.count >= 12, Array(data[0..<4]) == Array("RIFF".utf8), Array(data[8..<12]) == Array("WAVE".utf8) else {
            throw .notWAV
        }
        var offset = 12
        var format: (tag: UInt16, channels: UInt16, rate: UInt32, bits: UInt16)?
        while data.count - offset >= 8 {
            let id = String(decoding: data[offset..<offset + 4], as: UTF8.self)
            let size = Int(data.readLittleEndian(UInt32.self, at: offset + 4))
            let body = offset + 8
            switch id {
            case "fmt ":
                guard size >= 16, data.count - body >= 16 else { throw .malformed("fmt chunk is shorter than 16 bytes") }
                format = (
                    data.readLittleEndian(UInt16.self, at: body), data.readLittleEndian(UInt16.self, at: body + 2),
                    data.readLittleEndian(UInt32.self, at: body + 4), data.readLittleEndian(UInt16.self, at: body + 14)
                )
            case "data":
                guard let format else { throw .malformed("data chunk comes before the fmt chunk") }
                guard format.tag == 1 || format.tag == 0xFFFE, format.bits == 16, format.channels == 1,
                    format.rate == UInt32(AudioFormat.sampleRate)
                else {
                    throw .unsupportedFormat(
                        tag: format.tag, channels: Int(format.channels), sampleRate: Int(format.rate), bits: Int(format.bits))
                }
                // Streams written live may leave the size at 0 or 0xFFFFFFFF: take what is there.
                let available = data.count - body
                let length = size == 0 || size > available ? available : size
                return (0..<length / 2).map { data.readLittleEndian(Int16.self, at: body + 2 * $0) }
            default:
                break
            }
            offset = body + size + (size & 1)  // chunks are padded to even sizes
        }
        throw .malformed("no data chunk")
    }
}

/// Why a WAV file could not be read.
public enum WAVError: Error, Equatable, Sendable, CustomStringConvertible {
    case notWAV
    case malformed(String)
    case unsupportedFormat(tag: UInt16, channels: Int, sampleRate: Int, bits: Int)

    public var description: String {
        switch self {
        case .notWAV: "not a WAV file (no RIFF/WAVE header)"
        case let .malformed(reason): "malformed WAV file: \(reason)"
        case let .unsupportedFormat(tag, channels, rate, bits):
            "WAV format \(tag) with \(channels) channel(s), \(rate) Hz, \(bits)-bit is not supported; Duet reads 16-bit PCM mono 48 kHz"
        }
    }
}
