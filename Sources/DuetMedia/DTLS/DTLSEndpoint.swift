import COpenSSL
import DuetCrypto
import Synchronization

/// What a `DTLSEndpoint` asks its caller to do after an event.
public enum DTLSAction: Sendable {
    /// Send this datagram to the peer (a whole number of DTLS records, at most the MTU).
    case send([UInt8])
    /// The handshake finished, the peer's fingerprint matched and a profile was agreed:
    /// here are the SRTP keys. Given once.
    case connected(DTLSSRTPKeys)
    /// The association is over; any `.send` before this in the same list is the alert
    /// telling the peer. It can follow `.connected`: a DTLS server finishes before the client
    /// has checked the server's Finished, so the client's alert may still arrive. Drop the
    /// keys then.
    case failed(DTLSError)
    /// The peer closed the association (close_notify), for instance because the fingerprint
    /// it expected was not ours. Drop the keys.
    case closed
    /// A datagram was dropped as not DTLS; the association goes on. For counters and logs.
    case discarded(DTLSError)
}

/// One DTLS 1.2 association with use_srtp (RFC 5764), driven without sockets.
///
/// OpenSSL talks to memory BIOs: the caller feeds each received datagram to `receive(_:)`,
/// calls `tick()` when `timeUntilTick` has passed, and sends every `.send` datagram it gets
/// back. So the same code runs on the client's media socket, the server's demultiplexed media
/// port and in tests that lose or corrupt packets on purpose. Retransmission is OpenSSL's
/// (DTLSv1_get_timeout/DTLSv1_handle_timeout, on OpenSSL's own clock), starting at
/// `initialRetransmissionTimeout` and doubling up to 60 s; after `maximumRetransmissions`
/// unanswered resends the handshake fails as `.timedOut`.
///
/// Certificates are not checked by any authority: the TLS layer accepts whatever
/// certificate the peer shows, and once the handshake is done the endpoint compares its
/// SHA-256 fingerprint with `peerFingerprint`, which the caller got over authenticated
/// signaling. Keys are exported only when that matches and an SRTP profile was agreed.
///
/// A server may be made with no `peerFingerprint`: the server's media port learns which
/// device a handshake belongs to only from the certificate it shows (many devices announce
/// fingerprints over signaling, and any of them may be the one knocking). It then accepts any
/// certificate and reports its fingerprint in `DTLSSRTPKeys.peerFingerprint`; the caller
/// must look it up before using the keys. A client always pins the server's.
public final class DTLSEndpoint: @unchecked Sendable {
    /// Which side of the handshake this endpoint plays (RFC 5764: the SDP answerer's
    /// a=setup decides; in Duet the device is the client and the server's media port the server).
    public enum Role: Sendable, CustomStringConvertible {
        case client, server
        public var description: String { self == .client ? "client" : "server" }
    }

    /// Where the association stands.
    public enum State: Sendable, Equatable {
        case handshaking, connected, closed
        case failed(DTLSError)
    }

    /// The exporter label of RFC 5764 §4.2.
    static let exporterLabel = "EXTRACTOR-dtls_srtp"

    public let role: Role
    public let mtu: Int
    /// The certificate the peer must show, or nil (server only) to accept any and let the
    /// caller judge `DTLSSRTPKeys.peerFingerprint`.
    public let peerFingerprint: DTLSFingerprint?
    public let profiles: [SRTPProfile]
    public let maximumRetransmissions: Int

    // @unchecked Sendable: `context`, `ssl` and the mutable fields below are touched only
    // while holding `lock` (OpenSSL's SSL objects are not thread-safe); the `let`s above are
    // immutable values. `certificate` is itself immutable and Sendable.
    private let lock = Mutex<Void>(())
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let certificate: DTLSCertificate
    private var currentState: State = .handshaking
    private var retransmissions = 0
    private let keepAlive: AnyObject?

    /// - Parameters:
    ///   - role: client (sends the ClientHello on `start()`) or server.
    ///   - certificate: this process's certificate; its fingerprint went to the peer.
    ///   - peerFingerprint: what signaling said the peer's certificate hashes to; nil only for
    ///     a server, which then leaves the check to its caller.
    ///   - profiles: SRTP profiles to offer (client) or accept (server), most preferred first.
    ///   - mtu: the largest datagram to send; OpenSSL fragments the certificate flight to fit.
    public convenience init(
        role: Role, certificate: DTLSCertificate, peerFingerprint: DTLSFingerprint?,
        profiles: [SRTPProfile] = [.aesCM128HMACSHA1_80], mtu: Int = 1200,
        initialRetransmissionTimeout: Duration = .seconds(1), maximumRetransmissions: Int = 5
    ) throws(DTLSError) {
        precondition(role == .server || peerFingerprint != nil, "a DTLS client must pin the server's fingerprint")
        precondition(maximumRetransmissions >= 0, "maximumRetransmissions cannot be negative")
        let context = try Self.makeContext(role: role, certificate: certificate, profiles: profiles)
        let ssl: OpaquePointer
        do {
            ssl = try Self.makeSSL(context: context, role: role, mtu: mtu, initialRetransmissionTimeout: initialRetransmissionTimeout)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.init(
            role: role, ssl: ssl, context: context, certificate: certificate, peerFingerprint: peerFingerprint,
            profiles: profiles, mtu: mtu, maximumRetransmissions: maximumRetransmissions, keepAlive: nil)
    }

    /// Takes over `ssl` and one reference to `context` (freed with the endpoint). `keepAlive`
    /// is whatever the context's callbacks read (the hello verifier's cookie state).
    init(
        role: Role, ssl: OpaquePointer, context: OpaquePointer, certificate: DTLSCertificate, peerFingerprint: DTLSFingerprint?,
        profiles: [SRTPProfile], mtu: Int, maximumRetransmissions: Int, keepAlive: AnyObject?
    ) {
        self.role = role
        self.mtu = mtu
        self.peerFingerprint = peerFingerprint
        self.profiles = profiles
        self.maximumRetransmissions = maximumRetransmissions
        self.context = context
        self.ssl = ssl
        self.certificate = certificate
        self.keepAlive = keepAlive
    }

    /// A context for `role` with this certificate, DTLS 1.2 only, use_srtp `profiles`, and
    /// any peer certificate accepted (the fingerprint check after the handshake judges it).
    static func makeContext(role: Role, certificate: DTLSCertificate, profiles: [SRTPProfile]) throws(DTLSError) -> OpaquePointer {
        precondition(!profiles.isEmpty, "offer at least one SRTP profile")
        OpenSSLErrors.clear()
        guard let context = SSL_CTX_new(role == .client ? DTLS_client_method() : DTLS_server_method()) else {
            throw .setupFailed(OpenSSLErrors.drain("SSL_CTX_new failed"))
        }
        func fail(_ what: String) -> DTLSError { .setupFailed(OpenSSLErrors.drain("\(what) failed")) }
        guard duet_ssl_ctx_set_dtls12_only(context) == 1 else {
            SSL_CTX_free(context)
            throw fail("pinning DTLS 1.2")
        }
        guard SSL_CTX_use_certificate(context, certificate.certificate) == 1,
            SSL_CTX_use_PrivateKey(context, certificate.key) == 1,
            SSL_CTX_check_private_key(context) == 1
        else {
            SSL_CTX_free(context)
            throw fail("loading the certificate")
        }
        let profileList = profiles.map(\.openSSLName).joined(separator: ":")
        guard duet_ssl_ctx_use_srtp_ok(context, profileList) == 1 else {
            SSL_CTX_free(context)
            throw fail("use_srtp \(profileList)")
        }
        // Ask for the peer's certificate and accept any: the fingerprint check after the
        // handshake is what authenticates it. The server insists that the client sends one.
        let mode = SSL_VERIFY_PEER | (role == .server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0)
        SSL_CTX_set_verify(context, mode) { _, _ in 1 }
        return context
    }

    /// An SSL on memory BIOs for `role`, with the link MTU and the retransmission timer set.
    static func makeSSL(context: OpaquePointer, role: Role, mtu: Int, initialRetransmissionTimeout: Duration) throws(DTLSError)
        -> OpaquePointer
    {
        precondition(mtu >= 256, "DTLS needs an MTU of at least 256 bytes")
        func fail(_ what: String) -> DTLSError { .setupFailed(OpenSSLErrors.drain("\(what) failed")) }
        guard let ssl = SSL_new(context) else { throw fail("SSL_new") }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw fail("BIO_new(BIO_s_mem)")
        }
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL owns both BIOs from here
        if role == .client { SSL_set_connect_state(ssl) } else { SSL_set_accept_state(ssl) }
        // A memory BIO cannot report the path MTU: set the link MTU and stop OpenSSL asking.
        SSL_set_options(ssl, duet_ssl_op_no_query_mtu())
        guard duet_dtls_set_link_mtu(ssl, mtu) == 1 else {
            SSL_free(ssl)
            throw fail("DTLS_set_link_mtu(\(mtu))")
        }
        // The timer callback has no context pointer: the initial timeout rides in ex_data 0
        // (SSL_set_app_data's slot) as an integer.
        // Clamped to 1 ms ... 60 s, OpenSSL's own ceiling (and well inside the UInt32 it wants).
        let requested = initialRetransmissionTimeout.components
        let initialMicroseconds = min(
            60_000_000,
            max(
                1000,
                Int(clamping: requested.seconds) &* 1_000_000
                    &+ Int(requested.attoseconds / 1_000_000_000_000)))
        SSL_set_ex_data(ssl, 0, UnsafeMutableRawPointer(bitPattern: initialMicroseconds))
        DTLS_set_timer_cb(ssl) { ssl, previous in
            if previous == 0 { return UInt32(Int(bitPattern: SSL_get_ex_data(ssl, 0))) }
            return min(previous * 2, 60_000_000)
        }
        return ssl
    }

    deinit {
        lock.withLock { _ in
            SSL_free(ssl)  // frees both BIOs
            SSL_CTX_free(context)
        }
    }

    public var state: State { lock.withLock { _ in currentState } }

    /// Starts the handshake: the client's first flight (ClientHello). Nothing for a server,
    /// which waits for one.
    public func start() -> [DTLSAction] {
        lock.withLock { _ in role == .client ? advance() : [] }
    }

    /// Goes on with a handshake whose first datagram OpenSSL already holds (a ClientHello that
    /// `DTLSHelloVerifier` let through).
    func continueHandshake() -> [DTLSAction] {
        lock.withLock { _ in advance() }
    }

    /// Feeds one received datagram and returns what to do. Never traps on any input: bytes
    /// that cannot be DTLS (RFC 7983: first byte 20...63, and a whole record header) are
    /// `.discarded`; OpenSSL silently drops damaged records or fails the handshake cleanly.
    public func receive(_ datagram: [UInt8]) -> [DTLSAction] {
        lock.withLock { _ in
            guard currentState == .handshaking || currentState == .connected else { return [] }
            guard datagram.count >= DTLSDatagramPacker.recordHeaderLength else {
                return [.discarded(.malformedDatagram(length: datagram.count, reason: "shorter than a DTLS record header"))]
            }
            guard (20...63).contains(datagram[0]) else {
                return [
                    .discarded(.malformedDatagram(length: datagram.count, reason: "first byte \(datagram[0]) is outside DTLS's 20...63"))
                ]
            }
            let written = datagram.withUnsafeBytes { BIO_write(SSL_get_rbio(ssl), $0.baseAddress, Int32($0.count)) }
            guard written == Int32(datagram.count) else {
                return fail(.setupFailed(OpenSSLErrors.drain("BIO_write to the memory BIO failed")))
            }
            return currentState == .handshaking ? advance() : readAfterHandshake()
        }
    }

    /// How long until `tick()` has work (a retransmission due), or nil when no timer runs.
    public var timeUntilTick: Duration? {
        lock.withLock { _ in
            guard currentState == .handshaking else { return nil }
            var remaining = timeval()
            guard duet_dtls_get_timeout(ssl, &remaining) == 1 else { return nil }
            return .seconds(remaining.tv_sec) + .microseconds(remaining.tv_usec)
        }
    }

    /// Resends the last flight if OpenSSL's timer expired (it keeps its own clock, so calling
    /// early does nothing), or fails the handshake after `maximumRetransmissions` resends.
    public func tick() -> [DTLSAction] {
        lock.withLock { _ in
            guard currentState == .handshaking else { return [] }
            var remaining = timeval()
            guard duet_dtls_get_timeout(ssl, &remaining) == 1, remaining.tv_sec == 0, remaining.tv_usec == 0 else { return [] }
            guard retransmissions < maximumRetransmissions else { return fail(.timedOut(retransmissions: retransmissions)) }
            OpenSSLErrors.clear()
            let result = duet_dtls_handle_timeout(ssl)
            if result < 0 { return fail(.handshakeFailed(OpenSSLErrors.drain("retransmission failed"))) }
            if result > 0 { retransmissions += 1 }
            return drainOutgoing()
        }
    }

    // MARK: - Under the lock

    /// Runs the handshake as far as the input allows.
    private func advance() -> [DTLSAction] {
        OpenSSLErrors.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            var actions = drainOutgoing()
            actions += finishHandshake()
            return actions
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return drainOutgoing()
        case SSL_ERROR_ZERO_RETURN:
            return fail(.handshakeFailed("the peer closed the association during the handshake"))
        default:
            return fail(.handshakeFailed(OpenSSLErrors.drain("OpenSSL gave no reason")))
        }
    }

    /// After the handshake: checks the profile and the peer, then exports the keys.
    private func finishHandshake() -> [DTLSAction] {
        guard let selected = SSL_get_selected_srtp_profile(ssl),
            let profile = SRTPProfile(rawValue: UInt16(truncatingIfNeeded: selected.pointee.id)),
            profiles.contains(profile)
        else { return close(failing: .noSRTPProfile(offered: profiles)) }
        guard let peer = SSL_get1_peer_certificate(ssl) else { return close(failing: .noPeerCertificate) }
        defer { X509_free(peer) }
        let got: DTLSFingerprint
        do { got = try DTLSCertificate.fingerprint(of: peer) } catch { return close(failing: error) }
        if let expected = peerFingerprint, got != expected {
            return close(failing: .fingerprintMismatch(expected: expected, got: got))
        }

        let length = 2 * profile.keyingMaterialLength
        let material: SecureBytes
        do {
            // Exported straight into the secure buffer: no temporary copy to wipe.
            material = try SecureBytes(count: length) { (out: UnsafeMutableRawBufferPointer) throws(DTLSError) in
                let ok = SSL_export_keying_material(
                    ssl, out.baseAddress!.assumingMemoryBound(to: UInt8.self), length,
                    Self.exporterLabel, Self.exporterLabel.utf8.count, nil, 0, 0)
                if ok != 1 { throw .keyExportFailed(OpenSSLErrors.drain("SSL_export_keying_material returned \(ok)")) }
            }
        } catch let error as DTLSError {
            return close(failing: error)
        } catch {
            return close(failing: .keyExportFailed("\(error)"))
        }
        currentState = .connected
        return [.connected(DTLSSRTPKeys(profile: profile, keyingMaterial: material, isClient: role == .client, peerFingerprint: got))]
    }

    /// Connected: lets OpenSSL answer retransmitted flights and notice alerts. DTLS-SRTP
    /// carries no application data, so any that arrives is read and dropped.
    private func readAfterHandshake() -> [DTLSAction] {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            OpenSSLErrors.clear()
            let result = SSL_read(ssl, &buffer, Int32(buffer.count))
            if result > 0 { continue }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return drainOutgoing()
            case SSL_ERROR_ZERO_RETURN:
                currentState = .closed
                return drainOutgoing() + [.closed]
            default:
                return fail(.connectionFailed(OpenSSLErrors.drain("OpenSSL gave no reason")))
            }
        }
    }

    /// Sends close_notify so the peer stops too, then fails with `error`.
    private func close(failing error: DTLSError) -> [DTLSAction] {
        OpenSSLErrors.clear()
        _ = SSL_shutdown(ssl)
        return fail(error)
    }

    /// Marks the association failed, keeping any alert OpenSSL wrote for the peer.
    private func fail(_ error: DTLSError) -> [DTLSAction] {
        currentState = .failed(error)
        return drainOutgoing() + [.failed(error)]
    }

    /// Everything OpenSSL wrote since the last call, as datagrams.
    private func drainOutgoing() -> [DTLSAction] {
        let writeBIO = SSL_get_wbio(ssl)
        let pending = Int(duet_bio_pending(writeBIO))
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = BIO_read(writeBIO, &bytes, Int32(pending))
        guard read > 0 else { return [] }
        return DTLSDatagramPacker.datagrams(from: Array(bytes.prefix(Int(read))), mtu: mtu).map { .send($0) }
    }
}
