import COpus

/// Why an Opus call failed. libopus's negative return codes become this in one place
/// (`OpusError.check`), keeping the code and libopus's own wording for logs.
public enum OpusError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libopus returned `code` (one of OPUS_BAD_ARG … OPUS_ALLOC_FAIL) from `operation`.
    case library(operation: String, code: Int32)
    /// A zero-byte packet is malformed (RFC 7845 §3); libopus would silently conceal it as
    /// a loss instead, so it is refused before reaching the decoder.
    case emptyPacket
    /// Opus frames are fixed at 20 ms in Duet (AudioFormat); anything else is a caller bug.
    case wrongFrameSize(expected: Int, actual: Int)
    /// A setting outside the range Duet supports.
    case invalidSetting(name: String, value: Int, allowed: ClosedRange<Int>)

    /// libopus's constant name for a code, so a log line can be searched for in its docs.
    public static func codeName(_ code: Int32) -> String {
        switch code {
        case OPUS_BAD_ARG: "OPUS_BAD_ARG"
        case OPUS_BUFFER_TOO_SMALL: "OPUS_BUFFER_TOO_SMALL"
        case OPUS_INTERNAL_ERROR: "OPUS_INTERNAL_ERROR"
        case OPUS_INVALID_PACKET: "OPUS_INVALID_PACKET"
        case OPUS_UNIMPLEMENTED: "OPUS_UNIMPLEMENTED"
        case OPUS_INVALID_STATE: "OPUS_INVALID_STATE"
        case OPUS_ALLOC_FAIL: "OPUS_ALLOC_FAIL"
        default: "opus error \(code)"
        }
    }

    public var description: String {
        switch self {
        case let .library(operation, code):
            "\(operation) failed: \(String(cString: opus_strerror(code))) (\(Self.codeName(code)), \(code))"
        case .emptyPacket:
            "refusing an empty Opus packet: zero-byte packets are malformed; report a lost packet with concealLoss() instead"
        case let .wrongFrameSize(expected, actual):
            "Opus frame must be \(expected) samples (20 ms at 48 kHz), got \(actual)"
        case let .invalidSetting(name, value, allowed):
            "Opus \(name) \(value) is outside the supported range \(allowed.lowerBound)...\(allowed.upperBound)"
        }
    }

    /// Turns a libopus return value into a count or a thrown error.
    @discardableResult
    static func check(_ result: Int32, _ operation: String) throws(OpusError) -> Int {
        guard result >= 0 else { throw .library(operation: operation, code: result) }
        return Int(result)
    }
}
