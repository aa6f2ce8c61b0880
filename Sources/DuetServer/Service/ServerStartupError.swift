/// Why `duet server` could not start; each message names the file or address and what to do.
public enum ServerStartupError: Error, CustomStringConvertible {
    case dataDirectory(String)
    case certificate(String)
    case database(String)
    case bind(what: String, address: String, reason: String)

    public var description: String {
        switch self {
        case let .dataDirectory(message), let .certificate(message), let .database(message): message
        case let .bind(what, address, reason):
            "cannot listen for \(what) on \(address): \(reason); pick another address with --\(what == "media" ? "media" : "listen") HOST:PORT"
        }
    }
}
