import DuetWire
import Foundation

/// The relayed path of a 1:1 call (docs/networking.md "The paths"): an allocation on the
/// relay when the direct checks found no pair (or with `--relay`), its address told to the other
/// device sealed under the call's keys, and — when this device moves to another network while
/// relayed — a new allocation from where it is now, told the same way.
extension CallEngine {
    /// Allocates on the relay (the Duet server's, or `--turn`) and tells the peer the address:
    /// over UDP from the call socket, or a TCP or TLS stream when UDP cannot reach the relay
    /// (`CallTransport.RelayPlan`); each way that fails hands over to the next.
    func startRelay() async {
        guard let active = call, active.relay == nil else { return }
        guard let plan = await active.transport.relay.value else {
            emit(.warning("no relay available for this call"))
            return
        }
        // The plan may have been a round trip away: the call may have ended or found its relay meanwhile.
        guard call?.callID == active.callID, call?.relay == nil else { return }
        let inbox = active.inbox
        let udpReachesServer = active.transport.reflexive != nil || active.lateReflexive != nil
        let relay = RelayPath(server: plan.server, username: plan.username, password: plan.password,
                              transports: plan.transports(udpReachesServer: udpReachesServer),
                              socket: active.transport.socket, pinned: plan.certificate,
                              deliver: { inbox?.deliver($0) })
        call?.relay = relay
        if let peer = call?.peerRelayedAddress { _ = relay.permit(peer, now: active.elapsed) }
        await carryOut(relay.start(now: active.elapsed))
    }

    func carryOut(_ events: [RelayPath.Event]) async {
        for event in events {
            switch event {
            case let .allocated(relayed):
                announce(relayed)
            case let .ready(transport):
                switch call?.machine.state {
                case .connecting?:
                    await perform(call!.machine.handle(.pathEstablished(.relay(transport))))
                case .connected(.relay)?:
                    // A move's new allocation is up (the way to the relay may differ now).
                    if let peer = call?.peerRelayedAddress { emit(.path(.relay(transport), peer)) }
                default:
                    continue
                }
            case let .warning(reason), let .failed(reason):
                emit(.warning(reason))
            }
        }
    }

    /// Each tick of a relayed call: when this device's addresses changed or its stream to the
    /// relay closed, it moves to a new allocation (`moveRelay`). While a move is under way its
    /// new relayed address goes to the peer again every `MediaRestart.resendInterval` — the
    /// signaling connection may be reconnecting from the new network too — until media is heard.
    func watchRelay() async {
        guard var active = call, case .connected(.relay) = active.machine.state, let relay = active.relay else { return }
        let now = ContinuousClock.now
        if var restart = active.restart {
            guard let relayed = relay.relayed, restart.sentAt.map({ now - $0 >= MediaRestart.resendInterval }) ?? true else { return }
            restart.sent = true
            restart.sentAt = now
            call?.restart = restart
            announce(relayed)
            return
        }
        let moved = addressesChanged(&active, now: now) == true
        call = active
        guard moved || !relay.isOpen, active.lastRestartAt.map({ now - $0 >= MediaRestart.minimumInterval }) ?? true else { return }
        await moveRelay()
    }

    /// A new allocation from where this device is now, the old one released; signaling
    /// reconnects first (the move may have broken it too). The keys stay: the peer only learns
    /// where to send, sealed as at the start.
    private func moveRelay() async {
        guard let active = call, let old = active.relay else { return }
        call?.restart = RestartProgress(startedAt: .now, lastMediaBefore: active.lastMediaAt)
        call?.lastRestartAt = .now
        emit(.warning("\(RestartCause.networkChanged.rawValue) — reconnecting media"))
        old.close(now: active.elapsed)
        call?.relay = nil
        await session.connection.networkChanged()
        await perform(call!.machine.handle(.restarting))
        await startRelay()
    }

    /// This device's relayed address to the peer, sealed; not awaited (the connection may be
    /// reconnecting, and a move sends it again until media comes back).
    private func announce(_ relayed: TransportAddress) {
        guard let active = call, let keys = active.keys, let payload = try? JSONEncoder().encode(Candidate(kind: .relay, address: relayed)) else { return }
        let sealed = keys.sealSignal(Array(payload), fromCaller: active.isCaller, callID: active.callID)
        let (peer, callID) = (active.peer, active.callID)
        Task { [session] in
            try? await session.connection.sendCallSignal(to: peer, callID: callID, kind: CallSignal.Kind.relayAddress.rawValue, payload: sealed)
        }
    }

    /// The peer told us its relayed address: a channel to it once we are allocated.
    func permitPeerThroughRelay() async {
        guard let active = call, let relay = active.relay, let peer = active.peerRelayedAddress else { return }
        await carryOut(relay.permit(peer, now: active.elapsed))
    }
}
