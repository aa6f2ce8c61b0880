import Crypto
import DuetCrypto

/// One-time codes an operator issues so a number may move to a new identity key. Only a
/// hash is stored: someone who reads the database cannot use the codes it holds.
enum InviteCode {
    /// Crockford's base32 alphabet: no I, L, O or U to misread when a code is read aloud.
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// 16 symbols (80 bits) in four dash-separated groups.
    static func generate() -> String {
        let symbols = (0..<16).map { _ in alphabet[Int(SecureRandom.uniform(below: UInt32(alphabet.count)))] }
        return stride(from: 0, to: 16, by: 4).map { String(symbols[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// What is stored and looked up: SHA-256 of the code without dashes, upper-cased, with
    /// the letters people confuse mapped as Crockford's decoding does.
    static func hash(_ code: String) -> [UInt8] {
        let normalized = code.uppercased().compactMap { c -> Character? in
            switch c {
            case "-", " ": nil
            case "O": "0"
            case "I", "L": "1"
            default: c
            }
        }
        return Array(SHA256.hash(data: Array(String(normalized).utf8)))
    }
}
