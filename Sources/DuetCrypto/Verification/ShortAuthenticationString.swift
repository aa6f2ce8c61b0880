/// A few words derived from a call's secret, read aloud by both callers: if the words match,
/// nobody sat in the middle of this call's key agreement (docs/ARCHITECTURE.md "SAS").
///
/// Four words from a 256-word list carry 32 bits, so a man in the middle who runs two
/// separate key agreements matches both screens with probability 2⁻³².
public struct ShortAuthenticationString: Hashable, Sendable, CustomStringConvertible {
    public static let wordCount = Int(byteCount)
    /// One derived byte per word.
    private static let byteCount: UInt8 = 4
    public let words: [String]

    /// Derives the words from the call's secret and the caller's revealed value (`SASCommitment`)
    /// with HKDF-SHA256 under its own info string, so the SAS reveals nothing about keys derived
    /// from the secret for other purposes, and nobody can compute it before the reveal.
    public init(callSecret: SecureBytes, reveal: [UInt8]) {
        let material = HKDF.deriveKey(
            .sha256, inputKeyMaterial: callSecret, salt: reveal, info: Array("Duet SAS v2".utf8), count: Self.byteCount)
        words = material.withUnsafeBytes { bytes in bytes.map { SASWordList.words[Int($0)] } }
    }

    /// The bits carried: log2(256) per word.
    public static var bits: Int { wordCount * 8 }

    public var description: String { words.joined(separator: " ") }
}
