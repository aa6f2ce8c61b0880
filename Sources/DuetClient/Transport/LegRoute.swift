import DuetWire
import Synchronization

/// How a leg's datagrams reach the SFU, and when that way is lost (docs/networking.md "Legs to
/// the SFU"). Straight over UDP first: the first datagrams go out beside a STUN Binding (sent
/// again after a second). If nothing at all comes back from the media port within `directWait`,
/// the relay's credentials are asked for and the leg goes through the server's own relay over
/// TCP, then TLS (`RelayPath`). The way is lost when the host's addresses change (the device
/// moved), the relay's stream closes, or — the host's addresses unchanged — the NAT in front of
/// it starts mapping the leg to another address (a rebinding: the SFU, which knows the leg by
/// its old address, would send to a mapping that is gone): the leg is then rebuilt on a new
/// socket. The rebinding is seen by asking the media port again, every `rebindingCheck`, where
/// the leg's datagrams come from.
///
/// Owned by the leg (and so by the engine's actor); not thread-safe alone.
final class LegRoute {
    /// What the leg hears from its route.
    enum Event {
        /// The way changed (to the relay, over `label`): the handshake starts afresh on it.
        case switched(label: String)
        case notice(String)
        case failed(String)
        /// The way is gone for good: a new leg on a new socket is needed.
        case lost(String)
    }

    let socket: MediaSocket
    let media: TransportAddress
    /// How to reach the relay when UDP does not reach the media port (nil: never).
    private let relayAccess: RelayAccess?
    private var way: Way = .direct
    private let started = ContinuousClock.now
    /// Anything came from the media port over UDP: the direct way works.
    private var heardDirectly = false
    private let probe = MappingRequest()
    private var probesSent = 0
    /// Where the media port sees the leg (the first Binding's answer), the Binding that asks
    /// again once the leg is up, and another address an answer named.
    private var mapping: TransportAddress?
    private var recheck: (request: MappingRequest, sentAt: ContinuousClock.Instant)?
    private var rebound: TransportAddress?
    /// When the relay may be tried (again): after `directWait`, and a while after it failed.
    private var relayAttemptAt: ContinuousClock.Instant
    /// The interfaces' addresses when the route was made, and when they were last looked at.
    private let hostAddresses: Set<[UInt8]>
    private var addressesCheckedAt = ContinuousClock.now
    /// Where a relay stream's frames go (the engine's inbox for this leg).
    var inbox: DatagramInbox?
    /// What the relay said between ticks, for the next tick.
    private var pending: [Event] = []

    private enum Way {
        case direct
        /// UDP got no answer; the relay's credentials are on their way.
        case askingRelay(CredentialsSlot)
        case relayed(RelayPath)
    }

    /// How long the leg waits for any answer from the media port over UDP before it asks for
    /// the relay: only a network dropping UDP (or most of it) stays silent that long.
    static let directWait = Duration.seconds(2)
    /// The relay did not work out: UDP alone again, and the relay again in a while.
    static let relayRetry = Duration.seconds(10)
    /// How often a direct leg that is up asks where the media port sees it (36 bytes each way).
    static let rebindingCheck = Duration.seconds(2)

    init(socket: MediaSocket, media: TransportAddress, relay: RelayAccess?) {
        self.socket = socket
        self.media = media
        relayAccess = relay
        relayAttemptAt = started + Self.directWait
        hostAddresses = Set(HostAddresses.current(includeLoopback: media.isLoopback, includeIPv6: socket.carriesIPv6))
    }

    /// `udp` straight to the media port, or `relay (tcp)` / `relay (tls)`.
    var label: String {
        if case let .relayed(path) = way, let transport = path.transport { return "relay (\(transport.rawValue))" }
        return "udp"
    }

    /// The STUN Binding that tells UDP works (the first datagrams go out beside it).
    func start() { sendProbe() }

    /// A datagram on the leg's socket or relay stream: the SFU's bytes (DTLS or SRTP) if it
    /// came from the SFU, nil otherwise (what the relay said is reported on the next tick).
    func accept(_ datagram: MediaSocket.Datagram) -> [UInt8]? {
        guard datagram.source == media else { return nil }
        switch way {
        case let .relayed(path):
            switch path.receive(datagram.bytes, now: elapsed) {
            case let .media(peer, payload): return peer == media ? payload : nil
            case let .control(events): pending += handle(events)
            }
            return nil
        case .direct, .askingRelay:
            heardDirectly = true
            guard let mapped = probe.mapped(in: datagram.bytes) ?? recheck?.request.mapped(in: datagram.bytes) else {
                return datagram.bytes
            }
            if let mapping, mapped != mapping { rebound = mapped }
            mapping = mapping ?? mapped
            return nil
        }
    }

    /// Bytes to the SFU, the way the leg goes now (nothing through a relay not yet ready).
    func send(_ bytes: [UInt8]) {
        switch way {
        case .direct, .askingRelay: socket.send(bytes, to: media)
        case let .relayed(path): path.send(bytes)
        }
    }

    /// Every 20 ms: what the relay said, the fall-back to it while UDP stays silent (`connected`:
    /// the leg's handshake finished, so the way works), and whether the way was lost.
    func tick(connected: Bool) -> [Event] {
        var events = pending
        pending = []
        if let lost = lostWay() { return events + [.lost(lost)] }
        switch way {
        case .direct where connected && heardDirectly:
            if let rebound, let mapping {
                return events + [.lost("the NAT in front of this device moved the leg from \(mapping) to \(rebound)")]
            }
            if recheck.map({ ContinuousClock.now - $0.sentAt >= Self.rebindingCheck }) ?? true {
                let request = MappingRequest()
                socket.send(request.bytes, to: media)
                recheck = (request, .now)
            }
        case .direct:
            guard !heardDirectly, !connected, let relayAccess else { break }
            if probesSent == 1, ContinuousClock.now - started >= .seconds(1) { sendProbe() }
            guard ContinuousClock.now >= relayAttemptAt else { break }
            way = .askingRelay(CredentialsSlot(fetching: relayAccess.credentials))
            events.append(.notice("no answer over UDP from the media port \(media): trying the relay over TCP"))
        case let .askingRelay(slot):
            guard let answer = slot.take() else { break }
            guard let credentials = answer, let relayAccess else {
                fallBackToDirect()
                events.append(.failed("no relay credentials for the media leg; still trying UDP"))
                break
            }
            let inbox = self.inbox
            let path = RelayPath(
                server: media, username: credentials.username, password: credentials.password, transports: [.tcp, .tls],
                socket: socket, pinned: relayAccess.pinned, deliver: { inbox?.deliver($0) })
            way = .relayed(path)
            events += handle(path.permit(media, now: elapsed) + path.start(now: elapsed))
        case let .relayed(path):
            events += handle(path.tick(now: elapsed))
        }
        return events
    }

    func close() {
        if case let .relayed(path) = way { path.close(now: elapsed) }
        way = .direct
    }

    // MARK: -

    private var elapsed: Double {
        let parts = (ContinuousClock.now - started).components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    private func sendProbe() {
        probesSent += 1
        socket.send(probe.bytes, to: media)
    }

    /// The interfaces' addresses changed (checked once a second), or the relay's stream closed.
    private func lostWay() -> String? {
        if case let .relayed(path) = way, path.isReady, !path.isOpen { return "the relay's connection closed" }
        guard ContinuousClock.now - addressesCheckedAt >= HostAddresses.checkInterval else { return nil }
        addressesCheckedAt = .now
        let now = Set(HostAddresses.current(includeLoopback: media.isLoopback, includeIPv6: socket.carriesIPv6))
        return now == hostAddresses ? nil : "network changed"
    }

    private func fallBackToDirect() {
        if case let .relayed(path) = way { path.close(now: elapsed) }
        way = .direct
        relayAttemptAt = .now + Self.relayRetry
    }

    private func handle(_ events: [RelayPath.Event]) -> [Event] {
        events.compactMap { event in
            switch event {
            case .allocated: return nil
            case let .warning(reason): return .notice(reason)
            case let .failed(reason):
                fallBackToDirect()
                return .failed("media leg: the relay cannot be reached either (\(reason)); still trying UDP")
            case let .ready(transport): return .switched(label: "relay (\(transport.rawValue))")
            }
        }
    }
}

/// How a leg gets the server's relay when UDP does not reach the media port: credentials for
/// its call (asked for only then), and the certificate a TLS relay must show.
struct RelayAccess: Sendable {
    let credentials: @Sendable () async -> RelayCredentials?
    let pinned: @Sendable () async -> CertificateFingerprint?

    /// The Duet server's relay, for the group call or meeting `callID`.
    static func duetRelay(_ session: DeviceSession, callID: String) -> RelayAccess {
        RelayAccess(
            credentials: { try? await session.connection.relayCredentials(callID: callID) },
            pinned: { await session.connection.serverFingerprint })
    }
}

/// Relay credentials being asked for, left for the route's next tick (nil inside: refused).
/// The mutex guards the answer.
private final class CredentialsSlot: Sendable {
    private let answer = Mutex<RelayCredentials??>(nil)

    init(fetching fetch: @escaping @Sendable () async -> RelayCredentials?) {
        Task {
            let credentials = await fetch()
            self.answer.withLock { $0 = .some(credentials) }
        }
    }

    func take() -> RelayCredentials?? { answer.withLock { $0 } }
}
