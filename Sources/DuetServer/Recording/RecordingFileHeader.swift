import DuetCrypto
import Foundation

/// The clear header at the front of a recording file (docs/recordings.md):
///
///     magic "DUETREC\0" (8) ‖ version (1) ‖ id length (1) ‖ id (1–64, ASCII)
///     ‖ master key id (8) ‖ wrapped recording key (72: nonce 24 ‖ key 32 ‖ tag 16)
///     ‖ secretstream header (24)
///
/// then chunks, each `length (4, big-endian) ‖ secretstream chunk`. The wrapped key is
/// sealed with everything before it as associated data and the first chunk carries the
/// whole header as associated data, so no header byte can change unnoticed.
struct RecordingFileHeader: Equatable {
    static let magic: [UInt8] = Array("DUETREC".utf8) + [0]
    static let version: UInt8 = 1
    static let wrappedKeyCount = 24 + 32 + 16

    var id: RecordingID
    var masterKeyID: [UInt8]
    var wrappedKey: [UInt8]
    var streamHeader: [UInt8]

    /// The bytes the wrapped key is sealed against: magic through master key id.
    var wrappingAssociatedData: [UInt8] {
        Self.magic + [Self.version, UInt8(id.rawValue.utf8.count)] + Array(id.rawValue.utf8) + masterKeyID
    }

    /// Offset of the wrapped key in the file (where an unwrap failure is reported).
    var wrappedKeyOffset: Int { wrappingAssociatedData.count }

    func serialised() -> [UInt8] { wrappingAssociatedData + wrappedKey + streamHeader }

    /// What `parse` learned, or why it could not.
    enum Parse {
        case header(RecordingFileHeader, length: Int)
        /// Fewer bytes than a header needs.
        case short
        case notARecording
        case unsupportedVersion(UInt8)
        case badID(offset: Int)
    }

    /// Parses the header from the first bytes of a file (the first 256 are always enough).
    static func parse(_ bytes: [UInt8]) -> Parse {
        guard bytes.count >= magic.count + 2 else { return bytes.starts(with: magic.prefix(bytes.count)) ? .short : .notARecording }
        guard bytes.starts(with: magic) else { return .notARecording }
        let version = bytes[magic.count]
        guard version == Self.version else { return .unsupportedVersion(version) }
        let idLength = Int(bytes[magic.count + 1])
        var offset = magic.count + 2
        let total = offset + idLength + RecordingMasterKey.idCount + wrappedKeyCount + SecretStream.headerCount
        guard bytes.count >= total else { return .short }
        guard let text = String(bytes: bytes[offset..<offset + idLength], encoding: .utf8), let id = try? RecordingID(text) else {
            return .badID(offset: offset)
        }
        offset += idLength
        let keyID = Array(bytes[offset..<offset + RecordingMasterKey.idCount])
        offset += RecordingMasterKey.idCount
        let wrapped = Array(bytes[offset..<offset + wrappedKeyCount])
        offset += wrappedKeyCount
        let stream = Array(bytes[offset..<offset + SecretStream.headerCount])
        return .header(RecordingFileHeader(id: id, masterKeyID: keyID, wrappedKey: wrapped, streamHeader: stream), length: total)
    }
}
