/// The SHA-256 digest of a server's DER certificate: what clients pin (as ssh pins host keys)
/// and what the authentication signature binds to, since swift-nio-ssl exports no TLS keying
/// material. Written as upper-case hex pairs joined by colons, the form
/// `openssl x509 -noout -fingerprint -sha256` prints, so an operator can compare by eye.
public struct CertificateFingerprint: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public let digest: [UInt8]

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)

        public var description: String {
            switch self {
            case let .malformed(text):
                "'\(text)' is not a SHA-256 certificate fingerprint; expected 32 hex bytes such as AB:CD:…"
            }
        }
    }

    /// Wraps a digest someone already computed (the hashing lives with the TLS code).
    public init?(digest: some Collection<UInt8>) {
        guard digest.count == Self.byteCount else { return nil }
        self.digest = Array(digest)
    }

    /// Accepts the printed form, with or without colons, in either case, optionally prefixed "SHA256:".
    public init(parsing text: String) throws(ParseError) {
        var body = Substring(text.trimmingWhitespace())
        if body.uppercased().hasPrefix("SHA256:") { body = body.dropFirst(7) }
        let hex = body.filter { $0 != ":" }
        guard hex.count == Self.byteCount * 2 else { throw .malformed(text) }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { throw .malformed(text) }
            bytes.append(byte)
            index = next
        }
        self.digest = bytes
    }

    public var description: String {
        let digits = Array("0123456789ABCDEF")
        return digest.map { String([digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]]) }.joined(separator: ":")
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
