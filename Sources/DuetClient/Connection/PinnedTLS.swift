import Crypto
import DuetWire
import NIOSSL

/// TLS to a Duet server, trusted by its certificate's SHA-256 fingerprint alone — never a CA
/// or a host name: the server's certificate is self-signed and pinned on first use, as ssh
/// pins host keys. Signaling and TURN over TLS to the server's relay share it.
enum PinnedTLS {
    /// A client context: TLS 1.2 and up, no CA, no host name.
    static func clientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = .tlsv12
        // A close waits this long for the server's close_notify (NIO's default is 5 s). After a
        // network change the old connection's path is gone and nothing will answer: the new
        // connection, and every call signal queued for it, would wait that long.
        configuration.shutdownTimeout = .milliseconds(300)
        return try NIOSSLContext(configuration: configuration)
    }

    /// A client handler that accepts only the certificate whose fingerprint is `pinned` (any,
    /// when nil: a first connection); `seen` hears what was presented.
    static func clientHandler(
        context: NIOSSLContext, pinned: CertificateFingerprint?,
        seen: @escaping @Sendable (CertificateFingerprint) -> Void = { _ in }
    ) throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, promise in
            guard let leaf = certificates.first, let der = try? leaf.toDERBytes(),
                let presented = CertificateFingerprint(digest: Array(SHA256.hash(data: der)))
            else {
                promise.succeed(.failed)
                return
            }
            seen(presented)
            promise.succeed(pinned == nil || pinned == presented ? .certificateVerified : .failed)
        }
    }
}
