/// A `HOST:PORT` as typed on the command line (`--server`, `--listen`, `--media`).
/// IPv6 literals are written in brackets: `[::1]:7400`.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingPort(String)
        case badPort(String)
        case emptyHost(String)

        public var description: String {
            switch self {
            case let .missingPort(s): "'\(s)' has no port; write HOST:PORT, e.g. \(HostPort.loopback(port: 7400))"
            case let .badPort(s): "'\(s)' has a port that is not a number from 1 to 65535"
            case let .emptyHost(s): "'\(s)' has no host; write HOST:PORT, e.g. \(HostPort.loopback(port: 7400))"
            }
        }
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; `allowEphemeralPort` accepts port 0 (a listening address whose
    /// port the system picks).
    public init(parsing text: String, allowEphemeralPort: Bool = false) throws(ParseError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .missingPort(text) }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .missingPort(text) }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .missingPort(text) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw .emptyHost(text) }
        guard let port = Int(portText), ((allowEphemeralPort ? 0 : 1)...65535).contains(port) else { throw .badPort(text) }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
