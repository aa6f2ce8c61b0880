import DuetWire
import Foundation

/// A meeting's link, `duet://HOST:PORT/abc-defg-hij#FINGERPRINT`: the server to reach, the
/// code to knock with, and the SHA-256 fingerprint of the server's TLS certificate (64 hex
/// digits), so a guest who has never used that server pins the right one instead of trusting
/// whatever answers first. Whoever has the link may knock; the host decides who comes in. A
/// link without the fingerprint (typed by hand) still parses; joining with it needs a pin the
/// profile already holds for that server, or `--accept-certificate`.
public struct MeetingLink: Sendable, Equatable, CustomStringConvertible {
    public let server: HostPort
    public let code: String
    public let certificate: CertificateFingerprint?

    public init(server: HostPort, code: String, certificate: CertificateFingerprint? = nil) {
        self.server = server
        self.code = code
        self.certificate = certificate
    }

    /// Parses a pasted link; the error says what a link looks like.
    public init(parsing text: String) throws(MeetingError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("duet://") else { throw .badLink(text) }
        let rest = trimmed.dropFirst("duet://".count)
        guard let slash = rest.firstIndex(of: "/"), let server = try? HostPort(parsing: String(rest[..<slash])) else {
            throw .badLink(text)
        }
        let path = rest[rest.index(after: slash)...].split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let code = String(path[0])
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.map(\.count) == [3, 4, 3], parts.allSatisfy({ $0.allSatisfy { ("a"..."z").contains($0) } }) else {
            throw .badLink(text)
        }
        var certificate: CertificateFingerprint?
        if path.count == 2 {
            guard let parsed = try? CertificateFingerprint(parsing: String(path[1])) else { throw .badLink(text) }
            certificate = parsed
        }
        self.init(server: server, code: code, certificate: certificate)
    }

    public var description: String {
        "duet://\(server)/\(code)" + (certificate.map { "#" + $0.description.filter { $0 != ":" }.lowercased() } ?? "")
    }
}

/// Why a meeting could not be made, joined or kept.
public enum MeetingError: Error, Equatable, CustomStringConvertible {
    case badLink(String)
    case alreadyInMeeting(String)
    case noMediaPort
    case notInMeeting

    public var description: String {
        switch self {
        case let .badLink(text):
            "'\(text)' is not a meeting link: it looks like duet://HOST:PORT/abc-defg-hij#FINGERPRINT (64 hex digits after #)"
        case let .alreadyInMeeting(code): "already in meeting \(code): leave it first"
        case .noMediaPort: "the server gave no usable media port for this meeting"
        case .notInMeeting: "not in a meeting"
        }
    }
}
