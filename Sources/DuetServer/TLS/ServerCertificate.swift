import Crypto
import DuetWire
import Foundation
import Glibc
import NIOSSL
import X509

/// The server's self-signed TLS identity (docs/server.md "Certificate"). Made once, on first start, and kept in
/// the data dir, so clients that pinned its fingerprint keep trusting the server after a
/// restart. P-256 through swift-crypto and swift-certificates; OpenSSL stays for DTLS only.
public struct ServerCertificate: Sendable {
    public static let certificateFileName = "signaling-cert.pem"
    public static let keyFileName = "signaling-key.pem"

    public let certificate: NIOSSLCertificate
    public let privateKey: NIOSSLPrivateKey
    /// SHA-256 of the DER certificate: what clients pin and what logins are bound to.
    public let fingerprint: CertificateFingerprint

    /// Loads the certificate from `directory`, or makes and saves one when there is none.
    public static func loadOrCreate(in directory: URL) throws(ServerStartupError) -> ServerCertificate {
        let certURL = directory.appendingPathComponent(certificateFileName)
        let keyURL = directory.appendingPathComponent(keyFileName)
        let fm = FileManager.default
        switch (fm.fileExists(atPath: certURL.path), fm.fileExists(atPath: keyURL.path)) {
        case (true, true):
            return try load(certificate: certURL, key: keyURL)
        case (false, false):
            try create(certificate: certURL, key: keyURL)
            return try load(certificate: certURL, key: keyURL)
        default:
            throw .certificate(
                "only one of \(certURL.path) and \(keyURL.path) exists; restore the missing file, or delete both to make a new certificate (clients will then have to accept its new fingerprint)"
            )
        }
    }

    /// The TLS context the signaling listener serves with.
    public func makeServerContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificate)], privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }

    /// SHA-256 of a certificate's DER bytes; clients compute the same over what they were shown.
    public static func fingerprint(of certificate: NIOSSLCertificate) throws -> CertificateFingerprint {
        let der = try certificate.toDERBytes()
        return CertificateFingerprint(digest: Array(SHA256.hash(data: der)))!
    }

    private static func load(certificate: URL, key: URL) throws(ServerStartupError) -> ServerCertificate {
        do {
            guard let cert = try NIOSSLCertificate.fromPEMFile(certificate.path).first else {
                throw ServerStartupError.certificate(
                    "\(certificate.path) holds no certificate; delete it and \(key.lastPathComponent) to make a new one")
            }
            let privateKey = try NIOSSLPrivateKey(file: key.path, format: .pem)
            return ServerCertificate(certificate: cert, privateKey: privateKey, fingerprint: try fingerprint(of: cert))
        } catch {
            throw .certificate("cannot read the certificate in \(certificate.deletingLastPathComponent().path): \(error)")
        }
    }

    private static func create(certificate certURL: URL, key keyURL: URL) throws(ServerStartupError) {
        do {
            let key = P256.Signing.PrivateKey()
            let name = try DistinguishedName { CommonName("duet server") }
            let now = Date()
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-3600),
                // Trust comes from the pinned fingerprint, not from dates: make it last.
                notValidAfter: now.addingTimeInterval(100 * 365 * 24 * 3600),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    SubjectAlternativeNames([.dnsName(Loopback.hostName)])
                },
                issuerPrivateKey: .init(key))
            // The key first, readable by the owner only, so a crash never leaves a
            // certificate without its key.
            try write(key.pemRepresentation, to: keyURL, permissions: 0o600)
            try write(certificate.serializeAsPEM().pemString, to: certURL, permissions: 0o644)
        } catch let error as ServerStartupError {
            throw error
        } catch {
            throw .certificate("cannot make a certificate in \(certURL.deletingLastPathComponent().path): \(error)")
        }
    }

    /// Writes through a temporary file made with its final mode from the first byte
    /// (O_CREAT|O_EXCL|O_NOFOLLOW: never a file someone else made or a symlink planted there),
    /// then renamed over `url`: the key is never readable by others, not even for an instant.
    private static func write(_ text: String, to url: URL, permissions: Int) throws {
        let temporary = url.appendingPathExtension("partial")
        unlink(temporary.path)  // left by a crash, or planted: made afresh below either way
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(permissions))
        guard descriptor >= 0 else { throw ServerStartupError.certificate("cannot create \(temporary.path): errno \(errno)") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else { throw ServerStartupError.certificate("cannot write \(temporary.path): errno \(errno)") }
        guard rename(temporary.path, url.path) == 0 else {
            throw ServerStartupError.certificate("cannot move \(temporary.path) to \(url.path): errno \(errno)")
        }
    }
}
