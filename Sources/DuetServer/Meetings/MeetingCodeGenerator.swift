import DuetCrypto
import DuetWire

/// Meeting codes (docs/meetings.md "Links and codes"): `abc-defg-hij`, 10 lowercase letters from the system
/// random source — 26^10 ≈ 1.4 × 10^14 codes, which the per-address join limit makes
/// hopeless to guess.
enum MeetingCodeGenerator {
    static func make() -> String {
        let letters = (0..<10).map { _ in Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(SecureRandom.uniform(below: 26)))) }
        return String(letters[0..<3]) + "-" + String(letters[3..<7]) + "-" + String(letters[7..<10])
    }

    /// Whether `text` has a code's shape (checked before any lookup, so junk costs nothing).
    static func isWellFormed(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [3, 4, 3] && parts.allSatisfy { $0.allSatisfy { ("a"..."z").contains($0) } }
    }
}
