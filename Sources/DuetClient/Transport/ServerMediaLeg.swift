import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// This device's one media leg to the server's SFU (docs/group-calls.md, docs/meetings.md: one
/// upstream whatever the number of people): a DTLS-SRTP client association pinned to the
/// fingerprint the server announced over authenticated signaling, over a `LegRoute` (UDP, or
/// the server's relay on a network that lets no UDP out), and — once the handshake completes —
/// the SRTP sessions the SFU re-protects with, handed to the engine's `MediaPump` (which
/// seals each frame with SFrame first in a group call, so the SFU only handles ciphertext; in
/// a meeting it does not, and the server can read it).
///
/// When the route is lost (the device moved to another network) or the handshake finally
/// fails, the engine replaces the leg with its `successor` on a new socket: a new handshake
/// (the SFU lets the same certificate's new association replace the old), while the pump —
/// the same SSRC, sequence numbers and timestamps — goes on. Owned by the engine's actor; not
/// thread-safe alone.
final class ServerMediaLeg {
    let route: LegRoute
    private let certificate: DTLSCertificate
    private let serverFingerprint: DTLSFingerprint
    private let relayAccess: RelayAccess?
    /// Flights resent before the handshake fails (`handshakeRetransmissions`; fewer in tests).
    private let retransmissions: Int
    private var endpoint: DTLSEndpoint
    private var nextTick = ContinuousClock.now
    /// The handshake completed and its keys went to the engine; false again when it fails.
    private(set) var isConnected = false
    /// Media from the SFU last opened: the gap a successor reports runs from here.
    private(set) var lastHeardAt: ContinuousClock.Instant?
    /// A successor's: when media stopped before it, until its first packet opens.
    private var gapSince: ContinuousClock.Instant?
    private var pending: [Outcome] = []

    var socket: MediaSocket { route.socket }
    var media: TransportAddress { route.media }
    /// `relay`: how to get the server's relay when UDP cannot reach the media port.
    init(
        socket: MediaSocket, media: TransportAddress, certificate: DTLSCertificate, serverFingerprint: DTLSFingerprint,
        relay: RelayAccess? = nil, handshakeRetransmissions: Int = ServerMediaLeg.handshakeRetransmissions
    ) throws {
        route = LegRoute(socket: socket, media: media, relay: relay)
        self.certificate = certificate
        self.serverFingerprint = serverFingerprint
        relayAccess = relay
        retransmissions = handshakeRetransmissions
        endpoint = try Self.makeEndpoint(certificate: certificate, serverFingerprint: serverFingerprint, retransmissions: retransmissions)
    }

    /// The leg that takes over from this one on `socket`: a new handshake to the same SFU with
    /// the same certificate (the engine's pump keeps the SSRC and packet numbering).
    func successor(on socket: MediaSocket) throws -> ServerMediaLeg {
        let next = try ServerMediaLeg(
            socket: socket, media: media, certificate: certificate, serverFingerprint: serverFingerprint, relay: relayAccess,
            handshakeRetransmissions: retransmissions)
        next.gapSince = lastHeardAt ?? .now
        return next
    }

    private static func makeEndpoint(certificate: DTLSCertificate, serverFingerprint: DTLSFingerprint, retransmissions: Int) throws
        -> DTLSEndpoint
    {
        // GCM first: the SFU prefers it and it costs one pass per packet.
        try DTLSEndpoint(
            role: .client, certificate: certificate, peerFingerprint: serverFingerprint,
            profiles: [.aeadAES128GCM, .aesCM128HMACSHA1_80], initialRetransmissionTimeout: .milliseconds(500),
            maximumRetransmissions: retransmissions)
    }

    /// Flights resent before the handshake fails (and the engine builds a successor): the timer
    /// doubles from 0.5 s (to OpenSSL's 60 s cap), so 8 is about two minutes of trying. With 5
    /// (15 s) a call on a network losing a fifth of its datagrams lost its leg now and then —
    /// every datagram of a multi-datagram flight must get through in one try.
    static let handshakeRetransmissions = 8

    /// Points the socket's datagrams (and a relay stream's frames) at `inbox`, for the
    /// engine's actor to take in batches.
    func deliver(to inbox: DatagramInbox) {
        socket.setHandler { datagram in inbox.deliver(datagram) }
        route.inbox = inbox
    }

    /// What the leg tells its engine.
    enum Outcome {
        /// The handshake completed: media goes through these sessions.
        case connected(sending: SRTPSession, receiving: SRTPSession)
        case failed(String)
        /// The way to the SFU changed, or one way failed and the next is tried, or media came
        /// back after a successor took over.
        case notice(String)
        /// This leg is done for (its route was lost, or its handshake failed): the engine
        /// replaces it with its `successor` on a new socket.
        case rebuild(String)
        /// The association that carried media failed or was closed: its keys must go.
        case disconnected(String)
    }

    /// Sends the ClientHello, beside the route's STUN Binding.
    func start() -> Outcome? {
        route.start()
        return perform(endpoint.start())
    }

    /// The SFU's bytes in a datagram from the leg's socket or relay stream (nil: not the SFU's).
    func accept(_ datagram: MediaSocket.Datagram) -> [UInt8]? { route.accept(datagram) }

    /// A DTLS record from the SFU.
    func receiveDTLS(_ bytes: [UInt8]) -> Outcome? { perform(endpoint.receive(bytes)) }

    /// Every 20 ms: the route's news, and the handshake's retransmissions when OpenSSL's timer
    /// says so.
    func tick() -> [Outcome] {
        var outcomes = pending
        pending = []
        for event in route.tick(connected: isConnected) {
            switch event {
            case let .notice(text): outcomes.append(.notice(text))
            case let .failed(reason): outcomes.append(.failed(reason))
            case let .lost(reason): return outcomes + [.rebuild(reason)]
            case let .switched(label):
                // The SFU sees a new address: the handshake starts afresh on the new way.
                outcomes.append(.notice("media leg to the SFU goes over \(label)"))
                do {
                    endpoint = try Self.makeEndpoint(
                        certificate: certificate, serverFingerprint: serverFingerprint, retransmissions: retransmissions)
                    nextTick = .now
                    if let outcome = perform(endpoint.start()) { outcomes.append(outcome) }
                } catch { outcomes.append(.rebuild("a DTLS endpoint for the relay: \(error)")) }
            }
        }
        guard !isConnected, let wait = endpoint.timeUntilTick else { return outcomes }
        let now = ContinuousClock.now
        guard wait <= .zero || now >= nextTick + wait else { return outcomes }
        nextTick = now
        if let outcome = perform(endpoint.tick()) { outcomes.append(outcome) }
        return outcomes
    }

    private func perform(_ actions: [DTLSAction]) -> Outcome? {
        var outcome: Outcome?
        for action in actions {
            switch action {
            case let .send(datagram): route.send(datagram)
            case let .connected(keys):
                do {
                    let sessions = try keys.makeSessions()
                    isConnected = true
                    outcome = .connected(sending: sessions.sender, receiving: sessions.receiver)
                } catch { outcome = .failed("SRTP sessions from the DTLS keys: \(error)") }
            case let .failed(error):
                let wasConnected = isConnected
                isConnected = false
                // A handshake that finally failed leaves the leg silent: a new one takes over.
                outcome = wasConnected ? .disconnected("media leg: \(error)") : .rebuild("the DTLS handshake failed: \(error)")
            case .closed:
                isConnected = false
                outcome = .disconnected("the media port closed the DTLS association")
            case .discarded: break
            }
        }
        return outcome
    }

    /// Media from the SFU opened: a successor that took over after a gap says how long it was.
    func heard() {
        let now = ContinuousClock.now
        lastHeardAt = now
        if let since = gapSince {
            gapSince = nil
            pending.append(.notice("back after \((now - since).milliseconds) ms without media from the SFU"))
        }
    }

    func close() {
        isConnected = false
        route.close()
        socket.setHandler(nil)
        socket.close()
    }
}

extension Duration {
    /// Whole milliseconds, for what a user reads.
    var milliseconds: Int {
        let parts = components
        return Int(parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000)
    }
}
