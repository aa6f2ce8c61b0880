import Foundation
import Logging
import Synchronization

/// Finds secrets in text, in every form a careless log line could give them: raw bytes, hex
/// (lower, upper, and colon-separated as fingerprints are printed) and base64 (standard and
/// URL alphabets, at each of the three alignments a secret can have inside a longer blob, so
/// a key buried in an encoded structure is found too).
///
/// The text is scanned once: every form of every secret is indexed by its first
/// `window` bytes, and each position of the text is looked up, so thousands of secrets cost
/// one pass (a `contains` per form and secret would not finish in a debug build).
struct LeakSearch {
    struct Finding: Hashable, CustomStringConvertible {
        /// The secret's index in the list given to `init`.
        let secret: Int
        let form: String
        var description: String { "secret #\(secret) as \(form)" }
    }

    /// Every form is at least this long: a 12-byte secret gives 24 hex digits and 15 base64
    /// characters whatever its alignment.
    static let window = 12
    private var needles: [(bytes: [UInt8], secret: Int, form: String)] = []
    private var index: [Window: [Int]] = [:]

    init(secrets: [[UInt8]]) {
        for (number, secret) in secrets.enumerated() where secret.count >= Self.window {
            for (form, bytes) in Self.forms(of: secret) where bytes.count >= Self.window {
                index[Window(bytes, at: 0), default: []].append(needles.count)
                needles.append((bytes, number, form))
            }
        }
    }

    var formCount: Int { needles.count }

    /// Every secret found in `text`, and how it was written.
    func findings(in text: [UInt8]) -> Set<Finding> {
        guard text.count >= Self.window else { return [] }
        var found = Set<Finding>()
        for position in 0...(text.count - Self.window) {
            guard let candidates = index[Window(text, at: position)] else { continue }
            for candidate in candidates {
                let needle = needles[candidate]
                guard position + needle.bytes.count <= text.count,
                    text[position..<position + needle.bytes.count].elementsEqual(needle.bytes)
                else { continue }
                found.insert(Finding(secret: needle.secret, form: needle.form))
            }
        }
        return found
    }

    static func forms(of secret: [UInt8]) -> [(String, [UInt8])] {
        let hex = secret.map { String(format: "%02x", $0) }
        var forms: [(String, [UInt8])] = [
            ("raw bytes", secret),
            ("hex", Array(hex.joined().utf8)),
            ("HEX", Array(hex.joined().uppercased().utf8)),
            ("HEX:WITH:COLONS", Array(hex.joined(separator: ":").uppercased().utf8)),
            ("hex:with:colons", Array(hex.joined(separator: ":").utf8))
        ]
        for shift in 0..<3 {
            let core = base64Core(of: secret, shift: shift)
            forms.append(("base64 (offset \(shift) mod 3)", core))
            let url = core.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: "-") : $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }
            forms.append(("base64url (offset \(shift) mod 3)", url))
        }
        return forms
    }

    /// The base64 characters that depend on `secret` alone when it starts `shift` bytes past a
    /// multiple of three in a longer blob: character i covers bits 6i ..< 6i+6, so it is the
    /// secret's alone from ⌈8·shift/6⌉ up to, not including, ⌊8·(shift+count)/6⌋.
    static func base64Core(of secret: [UInt8], shift: Int) -> [UInt8] {
        let padded = [UInt8](repeating: 0, count: shift) + secret + [0, 0]
        let encoded = Array(Data(padded).base64EncodedString().utf8)
        return Array(encoded[(8 * shift + 5) / 6..<(8 * (shift + secret.count)) / 6])
    }

    /// The first `LeakSearch.window` bytes at a position, as a dictionary key.
    private struct Window: Hashable {
        let head: UInt64
        let tail: UInt32

        init(_ bytes: [UInt8], at position: Int) {
            var head: UInt64 = 0, tail: UInt32 = 0
            for offset in 0..<8 { head = head << 8 | UInt64(bytes[position + offset]) }
            for offset in 8..<12 { tail = tail << 8 | UInt32(bytes[position + offset]) }
            self.head = head
            self.tail = tail
        }
    }
}

/// Every line the loggers given a `CapturingLogHandler` wrote.
final class LogBook: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }

    /// A logger at `.trace` that writes here.
    func logger(label: String) -> Logger {
        var logger = Logger(label: label) { CapturingLogHandler(label: $0, book: self) }
        logger.logLevel = .trace
        return logger
    }
}

/// A log handler that keeps each line, as a console handler would print it: level, label,
/// source, message, every metadata value (the logger's, the provider's and the call's) and
/// the error, if any.
struct CapturingLogHandler: LogHandler {
    let label: String
    let book: LogBook
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let given = event.metadata { all.merge(given) { $1 } }
        let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let error = event.error.map { " error=\(String(reflecting: $0))" } ?? ""
        book.append("\(event.level) \(label) [\(event.source)] \(event.message) \(fields)\(error)")
    }
}
