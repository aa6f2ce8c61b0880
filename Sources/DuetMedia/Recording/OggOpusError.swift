/// Why an Ogg Opus stream could not be read or written, with the byte offset where it went
/// wrong so a bad recording can be inspected with a hex dump.
public enum OggOpusError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(offset: Int, what: String)
    case missingCapturePattern(offset: Int)
    case unsupportedOggVersion(UInt8)
    case badChecksum(offset: Int, stored: UInt32, computed: UInt32)
    case notOpus(reason: String)
    case malformedHeader(packet: String, reason: String)
    case emptyAudioPacket(index: Int)
    /// A granule position below zero other than -1 ("no packet ends on this page").
    case invalidGranulePosition(page: UInt32, granule: Int64)
    case packetTooLarge(bytes: Int)
    case finished

    public var description: String {
        switch self {
        case let .truncated(offset, what):
            "Ogg stream ends inside a \(what) at byte \(offset); the file was cut short"
        case let .missingCapturePattern(offset):
            "no Ogg page starts at byte \(offset) (expected \"OggS\"); this is not an Ogg file or it is corrupt"
        case let .unsupportedOggVersion(version):
            "Ogg stream structure version \(version) is not supported (only 0 exists)"
        case let .badChecksum(offset, stored, computed):
            "Ogg page at byte \(offset) is corrupt: checksum 0x\(String(stored, radix: 16)) but contents give 0x\(String(computed, radix: 16))"
        case let .notOpus(reason):
            "not an Ogg Opus stream: \(reason)"
        case let .malformedHeader(packet, reason):
            "malformed \(packet) header: \(reason)"
        case let .emptyAudioPacket(index):
            "audio packet \(index) is empty, which RFC 7845 §3 calls malformed"
        case let .invalidGranulePosition(page, granule):
            "Ogg page \(page) has granule position \(granule); only -1 (no packet ends on the page) may be negative"
        case let .packetTooLarge(bytes):
            "Opus packet of \(bytes) bytes is larger than any valid Opus packet"
        case .finished:
            "the Ogg Opus stream was already finished; start a new writer"
        }
    }
}
