import Foundation

/// A recording's name: it becomes a file name in the data dir and is bound into the
/// encrypted file's header, so it is restricted to a token that is safe in both places.
public struct RecordingID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public static let maximumLength = 64
    public let rawValue: String

    public init(_ rawValue: String) throws(RecordingError) {
        let allowed = rawValue.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard allowed, (1...Self.maximumLength).contains(rawValue.utf8.count) else { throw .invalidID(rawValue) }
        self.rawValue = rawValue
    }

    /// A fresh id that sorts by start time: `rec-YYYYMMDD-HHMMSS-xxxxxx` (UTC, 6 random hex digits).
    public static func make(at date: Date = Date()) -> RecordingID {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let suffix = String(UInt32.random(in: 0..<0x100_0000), radix: 16)
        let padded = String(repeating: "0", count: 6 - suffix.count) + suffix
        // Only digits, letters and '-': always valid.
        return try! RecordingID("rec-\(formatter.string(from: date))-\(padded)")
    }

    public var description: String { rawValue }

    public static func < (lhs: RecordingID, rhs: RecordingID) -> Bool { lhs.rawValue < rhs.rawValue }
}
