import DuetCrypto
import DuetWire
import Foundation
import Synchronization

/// A call's network side before media: the wildcard-bound UDP socket, our candidates (an
/// address of every interface that is up, and the server-reflexive address the server's media
/// port saw), and the relay credentials for this call (docs/networking.md).
struct CallTransport: Sendable {
    let socket: MediaSocket
    let candidates: [Candidate]
    /// The server's media port (STUN), when known.
    let serverMedia: TransportAddress?
    /// The mapping the server's media port answered with before the offer or answer left.
    let reflexive: TransportAddress?
    /// The relay to fall back to: asked for while the call is set up, awaited only when the
    /// relay is needed (`startRelay`), so no call waits for it before it rings.
    let relay: Task<RelayPlan?, Never>
    /// The STUN Binding whose answer did not come before the offer or answer had to leave: the
    /// engine asks again and trickles the mapping when it comes (`CallEngine+Trickle`).
    let lateMapping: MappingRequest?

    /// A TURN server, the credentials for this call, and the ways to reach it in the order to
    /// try: UDP first, unless the server's media port did not answer our STUN Binding (this
    /// network lets no UDP out), then TCP, then TLS (to Duet's relay, which answers TLS with
    /// the certificate this device pinned).
    struct RelayPlan: Sendable {
        let server: TransportAddress
        let username: String
        let password: String
        /// Nil: the usual order, UDP first if the server's media port answered a Binding.
        let transports: [RelayTransport]?
        /// The certificate a TLS relay must show: the Duet server's (pinned at registration), or
        /// the one given for an external `turns:` server.
        let certificate: @Sendable () async -> CertificateFingerprint?

        /// The ways to try, once it is known whether UDP reaches the server (the Binding may
        /// have been answered after the offer or answer left).
        func transports(udpReachesServer: Bool) -> [RelayTransport] {
            transports ?? (udpReachesServer ? [.udp, .tcp, .tls] : [.tcp, .tls, .udp])
        }
    }

    /// Host candidates announced at most; with the server-reflexive one this stays within
    /// what the peer accepts (`ConnectivityChecks.maximumRemoteCandidates`).
    static let maximumHostCandidates = 12

    /// The call's socket and candidates: `spare` if one was gathered ahead, else bound and
    /// gathered now — the server's media port comes from login (an older server names it only
    /// in relay credentials, which are then waited for) and the STUN Binding goes at once. The
    /// relay credentials are asked for beside it.
    static func open(
        session: DeviceSession, callID: String, options: CallOptions, spare: GatheredSocket? = nil,
        patience: Patience = .untilAnswered
    ) async throws -> CallTransport {
        let connection = session.connection
        let signaling = await connection.node
        let credentials = Task { try? await connection.relayCredentials(callID: callID) }
        let gathered: GatheredSocket
        let request = MappingRequest()
        if let spare {
            gathered = spare
        } else {
            let socket = try await MediaSocket.bind()
            var serverMedia = await connection.mediaAddress.flatMap { ServerAddress.media($0, signaling: signaling) }
            if serverMedia == nil { serverMedia = await credentials.value.flatMap { ServerAddress.media($0.relay, signaling: signaling) } }
            gathered = await GatheredSocket.learned(socket: socket, serverMedia: serverMedia, request: request, patience: patience)
        }
        let (socket, serverMedia, reflexive) = (gathered.socket, gathered.serverMedia, gathered.reflexive)
        let candidates = Self.candidates(socket: socket, serverMedia: serverMedia, reflexive: reflexive)
        let relay: Task<RelayPlan?, Never>
        if let turn = options.externalTURN {
            credentials.cancel()
            // TLS to a relay whose certificate nobody named would be TLS to anyone: not tried.
            let transports = (options.relayTransports ?? turn.transports).filter { $0 != .tls || turn.certificate != nil }
            relay = Task {
                RelayPlan(
                    server: turn.server, username: turn.username, password: turn.password, transports: transports,
                    certificate: { turn.certificate })
            }
        } else {
            let transports = options.relayTransports
            let media = serverMedia
            relay = Task {
                // The relay the server names with the credentials: its own media port, or the
                // coturn it hands credentials for (docs/deployment.md "TURN by coturn").
                guard let issued = await credentials.value, let server = ServerAddress.media(issued.relay, signaling: signaling) ?? media
                else { return nil }
                // TLS is tried only to the Duet server, whose certificate this device pinned; a
                // coturn it names has another, which nobody named.
                let ownRelay = server == media
                return RelayPlan(
                    server: server, username: issued.username, password: issued.password,
                    transports: ownRelay ? transports : (transports ?? [.udp, .tcp]).filter { $0 != .tls },
                    certificate: { await connection.serverFingerprint })
            }
        }
        socket.impair(options.inboundImpairment)
        if options.blockDirectTraffic {
            socket.restrict(to: Set([serverMedia, options.externalTURN?.server].compactMap { $0 }))
        }
        let late = spare == nil && serverMedia != nil && reflexive == nil ? request : nil
        return CallTransport(
            socket: socket, candidates: candidates, serverMedia: serverMedia, reflexive: reflexive, relay: relay,
            lateMapping: late)
    }

    /// The peer's candidates this device can and may send checks to: no multicast, broadcast,
    /// unspecified or link-local address (a send there fails, and a failed send closes a NIO
    /// socket), no IPv6 on an IPv4-only socket, and loopback only when this device reaches its
    /// server over loopback too (else a peer could aim checks at this machine's own services).
    func usable(_ candidates: [Candidate]) -> [Candidate] {
        let loopbackAllowed = serverMedia?.isLoopback ?? false
        let ipv6 = socket.carriesIPv6
        return candidates.filter { candidate in
            let address = candidate.address
            if address.isUnspecified || (address.isLoopback && !loopbackAllowed) { return false }
            if address.ip.count == 4 {
                return address.ip[0] < 224  // 224/4 multicast, 240/4 reserved, 255.255.255.255 broadcast
            }
            return ipv6 && address.unmappedIPv4 == nil && address.ip[0] != 0xFF && !(address.ip[0] == 0xFE && address.ip[1] & 0xC0 == 0x80)
        }
    }

    /// This device's candidates now: its host candidates and, when known, `reflexive`. At the
    /// start of a call and again after a network change (`MediaRestart`).
    func candidates(reflexive: TransportAddress?) -> [Candidate] {
        Self.candidates(socket: socket, serverMedia: serverMedia, reflexive: reflexive)
    }

    /// The interfaces' addresses host candidates are made of (compared to notice a change).
    func hostAddresses() -> [[UInt8]] {
        HostAddresses.current(includeLoopback: serverMedia?.isLoopback ?? false, includeIPv6: socket.carriesIPv6)
    }

    private static func candidates(socket: MediaSocket, serverMedia: TransportAddress?, reflexive: TransportAddress?) -> [Candidate] {
        var candidates = hostCandidates(
            port: socket.localAddress.port, serverIsLoopback: serverMedia?.isLoopback ?? false,
            includeIPv6: socket.carriesIPv6)
        if let reflexive, !candidates.contains(where: { $0.address == reflexive }) {
            candidates.append(Candidate(kind: .serverReflexive, address: reflexive))
        }
        return candidates
    }

    /// Every interface's address on the socket's port, the first preferred. Loopback only when
    /// the server is reached over loopback: the peer is then on this machine too.
    private static func hostCandidates(port: UInt16, serverIsLoopback: Bool, includeIPv6: Bool) -> [Candidate] {
        var addresses = HostAddresses.current(includeLoopback: serverIsLoopback, includeIPv6: includeIPv6)
        if serverIsLoopback {
            // On one machine loopback is the shortest path: check it first.
            addresses.sort { TransportAddress(ip: $0, port: 0).isLoopback && !TransportAddress(ip: $1, port: 0).isLoopback }
        }
        return addresses.prefix(maximumHostCandidates).enumerated().map { index, ip in
            Candidate(kind: .host, address: TransportAddress(ip: ip, port: port), localPreference: UInt16(65535 - index))
        }
    }

    /// Asks the server's media port which address our packets come from (a STUN Binding),
    /// waiting at most half a second, or until `patience` runs out: a server that does not
    /// answer in time leaves us host-only, and a later answer to `request` is trickled.
    static func serverReflexiveAddress(
        socket: MediaSocket, server: TransportAddress, request: MappingRequest = MappingRequest(),
        patience: Patience = .untilAnswered
    ) async -> TransportAddress? {
        let answer = Mutex<TransportAddress?>(nil)
        socket.setHandler { datagram in
            guard datagram.source == server, let mapped = request.mapped(in: datagram.bytes) else { return }
            answer.withLock { $0 = mapped }
            patience.wake()
        }
        defer { socket.setHandler(nil) }
        for _ in 0..<5 {
            socket.send(request.bytes, to: server)
            let resendAt = ContinuousClock.now + .milliseconds(100)
            while ContinuousClock.now < resendAt {
                if let mapped = answer.withLock({ $0 }) { return mapped }
                if patience.isOver { return nil }
                await patience.sleep(until: resendAt)
            }
        }
        return answer.withLock { $0 }
    }
}

/// How long gathering may wait for the STUN Binding's answer: until it comes (half a second at
/// most), not at all (a callee answers at once and trickles), or until something else the call
/// waits for is there anyway (a caller's prekey bundle). The gatherer sleeps on it and is woken
/// by the answer or by `end()` at once, not at its next poll. The mutex guards the flag and the
/// sleeping gatherer.
final class Patience: Sendable {
    private struct State {
        var over: Bool
        var sleeper: CheckedContinuation<Void, Never>?
        /// A wake-up that came while nobody slept: the next sleep returns at once.
        var woken = false
    }

    private let state: Mutex<State>

    /// Waits until `end()` (or the answer, or half a second).
    init() { state = Mutex(State(over: false)) }

    private init(over: Bool) { state = Mutex(State(over: over)) }

    /// Waits for the answer (half a second at most).
    static var untilAnswered: Patience { Patience() }
    /// Does not wait: what came by then is taken, the rest trickled.
    static var none: Patience { Patience(over: true) }

    func end() {
        state.withLock { $0.over = true }
        wake()
    }

    var isOver: Bool { state.withLock { $0.over } }

    /// What the gatherer waits for may have come: a sleeping gatherer looks now.
    func wake() {
        let sleeper = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.sleeper = nil }
            if state.sleeper == nil { state.woken = true }
            return state.sleeper
        }
        sleeper?.resume()
    }

    /// Sleeps until `wake()` or `end()`, or `deadline` at the latest.
    func sleep(until deadline: ContinuousClock.Instant) async {
        let alarm = Task { [weak self] in
            try? await Task.sleep(until: deadline)
            self?.wake()
        }
        defer { alarm.cancel() }
        await withCheckedContinuation { (sleeper: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.woken {
                    state.woken = false
                    return true
                }
                state.sleeper = sleeper
                return false
            }
            if now { sleeper.resume() }
        }
    }
}

/// A STUN Binding to the server's media port from a call socket, and the mapping its answer
/// names: how a device learns its server-reflexive address, when a call starts and again after
/// a network change.
struct MappingRequest: Sendable {
    let transactionID: [UInt8]

    init() {
        transactionID = SecureRandom.bytes(STUNMessage.transactionIDCount)
    }

    var bytes: [UInt8] { STUNMessage(method: .binding, messageClass: .request, transactionID: transactionID).encoded(fingerprint: true) }

    /// The XOR-MAPPED-ADDRESS of `bytes` if they are the success answer to this request.
    func mapped(in bytes: [UInt8]) -> TransportAddress? {
        guard let message = try? STUNMessage(parsing: bytes), message.transactionID == transactionID,
            message.messageClass == .success
        else { return nil }
        return try? message.address(.xorMappedAddress)
    }
}

/// A TURN server other than the Duet server's relay (`--turn`), such as coturn.
public struct ExternalTURN: Sendable {
    public var server: TransportAddress
    public var username: String
    public var password: String
    /// How to reach it, in order: `turn:` tries UDP then TCP on the same port, as coturn
    /// listens; `?transport=tcp` (RFC 7065) only TCP; `turns:` TLS.
    public var transports: [RelayTransport]
    /// For TLS: the SHA-256 fingerprint of the certificate the server must show. Pinned like the
    /// Duet server's own: a relay that shows another is not used (it could be anyone's).
    public var certificate: CertificateFingerprint?

    public init(
        server: TransportAddress, username: String, password: String, transports: [RelayTransport] = [.udp, .tcp],
        certificate: CertificateFingerprint? = nil
    ) {
        self.server = server
        self.username = username
        self.password = password
        self.transports = transports
        self.certificate = certificate
    }
}
