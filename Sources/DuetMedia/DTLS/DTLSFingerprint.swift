import Foundation

/// The SHA-256 fingerprint of a DTLS certificate, in the form SDP's `a=fingerprint:sha-256`
/// carries it (RFC 8122 §5: upper-case hex pairs joined by colons).
///
/// DTLS-SRTP in Duet never trusts a certificate authority: each device and server process
/// makes a throwaway self-signed certificate, and the fingerprint travels over signaling
/// that is already authenticated. After the handshake each endpoint compares the peer's
/// certificate with the fingerprint it was told to expect, which is what makes the DTLS
/// keys belong to the right peer. Fingerprints are public, so plain comparison is fine.
public struct DTLSFingerprint: Sendable, Hashable, CustomStringConvertible {
    /// Bytes in a SHA-256 digest.
    public static let length = 32

    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Wraps a digest; returns nil unless it has exactly 32 bytes.
    public init?(sha256 bytes: [UInt8]) {
        guard bytes.count == Self.length else { return nil }
        self.bytes = bytes
    }

    /// Parses "AB:CD:…" (32 pairs, either case), as `description` prints it and as
    /// `openssl x509 -fingerprint -sha256` prints it after "=". An optional leading
    /// "sha-256 " (the SDP attribute's hash name) is accepted. Returns nil for anything else.
    public init?(_ text: String) {
        var text = Substring(text.trimmingCharacters(in: .whitespaces))
        if text.lowercased().hasPrefix("sha-256 ") { text = text.dropFirst(8).drop { $0 == " " } }
        let pairs = text.split(separator: ":", omittingEmptySubsequences: false)
        guard pairs.count == Self.length else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.length)
        for pair in pairs {
            guard pair.count == 2, pair.allSatisfy(\.isHexDigit), let byte = UInt8(pair, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    /// "AB:CD:…", upper case, 95 characters.
    public var description: String {
        bytes.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: ":")
    }
}
