import COpenSSL

/// A fresh self-signed ECDSA P-256 certificate and its key, made once per device or server
/// process for DTLS-SRTP.
///
/// Nobody checks it against a certificate authority: its only job is to carry a public key
/// whose SHA-256 fingerprint the other side already learned over authenticated signaling
/// (SDP's a=fingerprint idea, RFC 5763). So it is made in memory, never stored, with a random
/// serial and a short validity (an hour back for clock skew, `validity` forward); a new
/// process means a new certificate and a new fingerprint.
public final class DTLSCertificate: @unchecked Sendable {
    // @unchecked Sendable: `key` (EVP_PKEY*) and `certificate` (X509*) are built in `init`
    // and never changed afterwards. Each endpoint's SSL_CTX takes its own reference
    // (OpenSSL's reference counts are atomic) and only reads them, so sharing one
    // certificate across threads is safe; `deinit` drops this object's references.
    let key: OpaquePointer
    let certificate: OpaquePointer

    /// SHA-256 over the certificate's DER, what signaling sends as a=fingerprint.
    public let fingerprint: DTLSFingerprint

    /// - Parameters:
    ///   - commonName: the subject and issuer CN (shows up only in packet captures).
    ///   - validity: how long the certificate stays valid from now.
    public init(commonName: String = "duet", validity: Duration = .seconds(30 * 24 * 3600)) throws(DTLSError) {
        OpenSSLErrors.clear()
        guard let key = duet_evp_ec_p256_generate() else {
            throw .certificateGenerationFailed(OpenSSLErrors.drain("P-256 key generation failed"))
        }
        guard let certificate = X509_new() else {
            EVP_PKEY_free(key)
            throw .certificateGenerationFailed(OpenSSLErrors.drain("X509_new failed"))
        }
        do {
            try Self.fill(certificate, key: key, commonName: commonName, validitySeconds: Int(validity.components.seconds))
            self.fingerprint = try Self.fingerprint(of: certificate)
        } catch {
            X509_free(certificate)
            EVP_PKEY_free(key)
            throw error
        }
        self.key = key
        self.certificate = certificate
    }

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    /// The certificate as PEM text (for a test peer such as `openssl s_client -cert`).
    public var pemCertificate: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509(bio, certificate) == 1 else { return "" }
        return Self.text(of: bio)
    }

    /// SHA-256 of an X509's DER encoding.
    static func fingerprint(of certificate: OpaquePointer) throws(DTLSError) -> DTLSFingerprint {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1,
            let fingerprint = DTLSFingerprint(sha256: Array(digest.prefix(Int(length))))
        else { throw .certificateGenerationFailed(OpenSSLErrors.drain("X509_digest(SHA-256) failed")) }
        return fingerprint
    }

    /// Version 3, random 63-bit serial, CN, validity, public key, self-signature (ECDSA-SHA256).
    private static func fill(_ x509: OpaquePointer, key: OpaquePointer, commonName: String, validitySeconds: Int) throws(DTLSError) {
        func check(_ ok: Bool, _ what: String) throws(DTLSError) {
            if !ok { throw .certificateGenerationFailed(OpenSSLErrors.drain("\(what) failed")) }
        }
        try check(X509_set_version(x509, 2) == 1, "X509_set_version(v3)")  // 2 is X509_VERSION_3
        try check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), UInt64.random(in: 1...UInt64(Int64.max))) == 1, "serial")
        try check(X509_gmtime_adj(X509_getm_notBefore(x509), -3600) != nil, "notBefore")
        try check(X509_gmtime_adj(X509_getm_notAfter(x509), validitySeconds) != nil, "notAfter")
        guard let name = X509_NAME_new() else { throw .certificateGenerationFailed(OpenSSLErrors.drain("X509_NAME_new failed")) }
        defer { X509_NAME_free(name) }
        let added = Array(commonName.utf8).withUnsafeBufferPointer { cn in
            X509_NAME_add_entry_by_txt(name, "CN", duet_mbstring_asc(), cn.baseAddress, Int32(cn.count), -1, 0)
        }
        try check(added == 1, "X509_NAME_add_entry_by_txt(CN)")
        try check(X509_set_subject_name(x509, name) == 1, "X509_set_subject_name")
        try check(X509_set_issuer_name(x509, name) == 1, "X509_set_issuer_name")
        try check(X509_set_pubkey(x509, key) == 1, "X509_set_pubkey")
        try check(X509_sign(x509, key, EVP_sha256()) > 0, "X509_sign")
    }

    static func text(of bio: OpaquePointer) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = BIO_read(bio, &chunk, Int32(chunk.count))
            if n <= 0 { break }
            bytes += chunk.prefix(Int(n))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
