import COpenSSL
import DuetCrypto
import Synchronization

/// The stateless front door of a DTLS server (RFC 6347 §4.2.1, cookie exchange).
///
/// A ClientHello's source address is one spoofable UDP header: a server that makes an
/// association for every ClientHello lets anyone fill its handshake slots, and answers a
/// forged address with its whole certificate flight. So a stranger's ClientHello comes here
/// first. Without a valid cookie it gets a HelloVerifyRequest carrying
/// HMAC-SHA256(secret, sender's address) — smaller than the ClientHello — and nothing is kept.
/// Only a ClientHello that echoes that cookie, from the address it was made for, proves the
/// sender reads what is sent there; it gets an association (`DTLSEndpoint`) that carries on
/// from that ClientHello.
///
/// OpenSSL does the parsing and the HelloVerifyRequest (`DTLSv1_listen` on one listening SSL
/// reused for every stranger); the cookie callbacks reach the sender's address and the secret
/// through the context's ex_data. A DTLS client (OpenSSL's, so also `DTLSEndpoint` and
/// `openssl s_client`) answers a HelloVerifyRequest by itself.
public final class DTLSHelloVerifier: @unchecked Sendable {
    /// What to do with a stranger's datagram.
    public enum Verdict: Sendable {
        /// Send this HelloVerifyRequest back; nothing was kept.
        case challenge([UInt8])
        /// The sender echoed a cookie made for its address: its association, and what that
        /// association asks for first (the server's flight).
        case accepted(DTLSEndpoint, [DTLSAction])
        /// Not a ClientHello OpenSSL would answer, or a cookie that is not this sender's.
        case dropped
    }

    public let mtu: Int
    public let maximumRetransmissions: Int
    private let initialRetransmissionTimeout: Duration
    private let certificate: DTLSCertificate
    private let profiles: [SRTPProfile]

    // @unchecked Sendable: `context` is immutable once made and `listener` is touched only
    // while holding `lock` (an SSL is not thread-safe); `cookies` guards its own state.
    private let lock = Mutex<Void>(())
    private let context: OpaquePointer
    private var listener: OpaquePointer?
    private let cookies: CookieState

    /// The parameters are those of every `DTLSEndpoint` it hands out (server role, no pinned
    /// peer: the caller judges `DTLSSRTPKeys.peerFingerprint`).
    public init(
        certificate: DTLSCertificate, profiles: [SRTPProfile], mtu: Int = 1200,
        initialRetransmissionTimeout: Duration = .seconds(1), maximumRetransmissions: Int = 5
    ) throws(DTLSError) {
        context = try DTLSEndpoint.makeContext(role: .server, certificate: certificate, profiles: profiles)
        cookies = CookieState()
        self.certificate = certificate
        self.profiles = profiles
        self.mtu = mtu
        self.initialRetransmissionTimeout = initialRetransmissionTimeout
        self.maximumRetransmissions = maximumRetransmissions
        // Unretained: every SSL made from the context is owned by this verifier or by an
        // endpoint that keeps `cookies` alive (`keepAlive`).
        SSL_CTX_set_ex_data(context, 0, Unmanaged.passUnretained(cookies).toOpaque())
        SSL_CTX_set_cookie_generate_cb(context) { ssl, cookie, length in
            guard let state = CookieState.of(ssl), let cookie, let length else { return 0 }
            let value = state.cookie()
            cookie.update(from: value, count: value.count)
            length.pointee = UInt32(value.count)
            return 1
        }
        SSL_CTX_set_cookie_verify_cb(context) { ssl, cookie, length in
            guard let state = CookieState.of(ssl), let cookie else { return 0 }
            return state.verify(Array(UnsafeBufferPointer(start: cookie, count: Int(length)))) ? 1 : 0
        }
    }

    deinit {
        lock.withLock { _ in
            if let listener { SSL_free(listener) }
            SSL_CTX_free(context)
        }
    }

    /// Judges one datagram from a sender that has no association. `peer` names the sender
    /// (its IP and port, as bytes): the cookie is bound to it.
    public func receive(_ datagram: [UInt8], from peer: [UInt8]) -> Verdict {
        lock.withLock { _ -> Verdict in
            guard
                let ssl = listener
                    ?? (try? DTLSEndpoint.makeSSL(
                        context: context, role: .server, mtu: mtu,
                        initialRetransmissionTimeout: initialRetransmissionTimeout))
            else { return .dropped }
            listener = ssl
            cookies.setPeer(peer)
            OpenSSLErrors.clear()
            guard duet_bio_reset(SSL_get_rbio(ssl)) == 1, duet_bio_reset(SSL_get_wbio(ssl)) == 1 else { return .dropped }
            let written = datagram.withUnsafeBytes { BIO_write(SSL_get_rbio(ssl), $0.baseAddress, Int32($0.count)) }
            guard written == Int32(datagram.count), let address = BIO_ADDR_new() else { return .dropped }
            defer { BIO_ADDR_free(address) }
            let result = DTLSv1_listen(ssl, address)
            if result == 1 { return accept(ssl) }
            if result < 0 {
                // Not a state to listen on again: the next stranger gets a fresh SSL.
                SSL_free(ssl)
                listener = nil
                OpenSSLErrors.clear()
                return .dropped
            }
            let reply = Self.drain(SSL_get_wbio(ssl))
            return reply.isEmpty ? .dropped : .challenge(reply)
        }
    }

    /// Under the lock: `ssl` holds a ClientHello with this sender's cookie. It becomes the
    /// sender's association; the next stranger gets a new listening SSL. The handshake goes
    /// on at once, while the cookie state still names this sender (OpenSSL checks the cookie
    /// again as it reads the ClientHello).
    private func accept(_ ssl: OpaquePointer) -> Verdict {
        listener = nil
        SSL_CTX_up_ref(context)
        let endpoint = DTLSEndpoint(
            role: .server, ssl: ssl, context: context, certificate: certificate, peerFingerprint: nil,
            profiles: profiles, mtu: mtu, maximumRetransmissions: maximumRetransmissions, keepAlive: cookies)
        return .accepted(endpoint, endpoint.continueHandshake())
    }

    private static func drain(_ bio: OpaquePointer?) -> [UInt8] {
        let pending = Int(duet_bio_pending(bio))
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = BIO_read(bio, &bytes, Int32(pending))
        return read > 0 ? Array(bytes.prefix(Int(read))) : []
    }
}

/// The secret cookies are made under and the sender being judged, read by OpenSSL's cookie
/// callbacks (which get only the SSL) through the context's ex_data slot 0.
private final class CookieState: Sendable {
    private let secret = SecureBytes(randomCount: 32)
    private let peer = Mutex<[UInt8]>([])

    static func of(_ ssl: OpaquePointer?) -> CookieState? {
        guard let ssl, let context = SSL_get_SSL_CTX(ssl), let raw = SSL_CTX_get_ex_data(context, 0) else { return nil }
        return Unmanaged<CookieState>.fromOpaque(raw).takeUnretainedValue()
    }

    func setPeer(_ bytes: [UInt8]) { peer.withLock { $0 = bytes } }

    /// HMAC-SHA256(secret, sender): 32 bytes, well inside DTLS's 255.
    func cookie() -> [UInt8] {
        MessageAuthentication.code(.sha256, key: secret, message: peer.withLock { $0 })
    }

    func verify(_ candidate: [UInt8]) -> Bool {
        SecureBytes(copying: candidate).constantTimeEquals(SecureBytes(copying: cookie()))
    }
}
