/// Why `duet server` could not start; each message names the file or address and what to do,
/// on one line (an operator reads it in a terminal or a journal, not a stack of library errors).
public enum ServerStartupError: Error, CustomStringConvertible {
    case dataDirectory(String)
    case certificate(String)
    case database(String)
    case bind(what: String, address: String, reason: String)
    /// An option that cannot work, with what to write instead.
    case configuration(String)

    public var description: String {
        let text =
            switch self {
            case let .dataDirectory(message), let .certificate(message), let .database(message), let .configuration(message): message
            case let .bind(what, address, reason):
                "cannot listen for \(what) on \(address): \(reason); pick another address with --\(what == "media" ? "media" : "listen") HOST:PORT"
            }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
