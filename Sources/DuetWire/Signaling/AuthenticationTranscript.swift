/// What a device signs with its identity key to log in (docs/server.md): a fixed context string,
/// the server's 32-byte challenge and the digest of the certificate the device saw. Binding
/// the certificate means a signature made for one server (or a man in the middle with its own
/// certificate) cannot be replayed to another.
public enum AuthenticationTranscript {
    public static let context = Array("duet signaling authentication v1".utf8)
    public static let nonceByteCount = 32

    public static func message(nonce: [UInt8], certificate: CertificateFingerprint) -> [UInt8] {
        context + [0] + nonce + certificate.digest
    }
}
