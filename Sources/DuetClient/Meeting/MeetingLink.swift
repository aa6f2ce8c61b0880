import DuetWire
import Foundation

/// A meeting's link, `duet://HOST:PORT/abc-defg-hij`: the server to reach and the code to
/// knock with. Whoever has it may knock; the host decides who comes in.
public struct MeetingLink: Sendable, Equatable, CustomStringConvertible {
    public let server: HostPort
    public let code: String

    public init(server: HostPort, code: String) {
        self.server = server
        self.code = code
    }

    /// Parses a pasted link; the error says what a link looks like.
    public init(parsing text: String) throws(MeetingError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("duet://") else { throw .badLink(text) }
        let rest = trimmed.dropFirst("duet://".count)
        guard let slash = rest.firstIndex(of: "/"), let server = try? HostPort(parsing: String(rest[..<slash])) else { throw .badLink(text) }
        let code = String(rest[rest.index(after: slash)...])
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.map(\.count) == [3, 4, 3], parts.allSatisfy({ $0.allSatisfy { ("a"..."z").contains($0) } }) else { throw .badLink(text) }
        self.init(server: server, code: code)
    }

    public var description: String { "duet://\(server)/\(code)" }
}

/// Why a meeting could not be made, joined or kept.
public enum MeetingError: Error, Equatable, CustomStringConvertible {
    case badLink(String)
    case alreadyInMeeting(String)
    case noMediaPort
    case notInMeeting

    public var description: String {
        switch self {
        case let .badLink(text): "'\(text)' is not a meeting link: it looks like duet://HOST:PORT/abc-defg-hij"
        case let .alreadyInMeeting(code): "already in meeting \(code): leave it first"
        case .noMediaPort: "the server gave no usable media port for this meeting"
        case .notInMeeting: "not in a meeting"
        }
    }
}
