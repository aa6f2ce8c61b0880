import COpenSSL

/// The one place OpenSSL's thread-local error queue becomes text.
///
/// OpenSSL reports failures by pushing codes onto a per-thread queue; a stale entry from an
/// earlier call would be blamed on the next one, so callers `clear()` before each operation
/// and `drain(_:)` after a failure, which empties the queue into one sentence.
enum OpenSSLErrors {
    static func clear() { ERR_clear_error() }

    /// Every queued error as OpenSSL's strings, oldest first, or `fallback` if none is queued.
    static func drain(_ fallback: String) -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? fallback : messages.joined(separator: "; ")
    }
}
