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
            emit(.notice(.warning(.media, "no relay available for this call")))
            return
        }
        // The plan may have been a round trip away: the call may have ended or found its relay meanwhile.
        guard call?.callID == active.callID, call?.relay == nil else { return }
        let inbox = active.pump.inbox
        let udpReachesServer = active.transport.reflexive != nil || active.trickle.lateReflexive != nil
        let relay = RelayPath(
            server: plan.server, username: plan.username, password: plan.password,
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
                emit(.notice(.warning(.media, reason)))
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
        if var restart = active.network.restart {
            // A move is seldom one event (the new interface comes up, then the old one goes
            // down, then the route moves): an allocation made on the way out is the old
            // network's, so a change under the move makes another.
            if addressesChanged(&active, now: now) == true {
                call = active
                await moveRelay()
                return
            }
            call = active
            guard let relayed = relay.relayed, restart.sentAt.map({ now - $0 >= MediaRestart.resendInterval }) ?? true else { return }
            restart.sent = true
            restart.sentAt = now
            call?.network.restart = restart
            announce(relayed)
            return
        }
        // An address change moves at once (the last step of a move may come after the one
        // before it ended); a stream that closed under an unchanged network, at most every 3 s.
        let moved = addressesChanged(&active, now: now) == true
        call = active
        let closed = !relay.isOpen && (active.network.lastRestartAt.map { now - $0 >= MediaRestart.minimumInterval } ?? true)
        guard moved || closed else { return }
        await moveRelay()
    }

    /// A new allocation from where this device is now, the old one released; signaling
    /// reconnects first (the move may have broken it too). The keys stay: the peer only learns
    /// where to send, sealed as at the start.
    private func moveRelay() async {
        guard let active = call, let old = active.relay else { return }
        if active.network.restart == nil {
            call?.network.restart = RestartProgress(startedAt: .now, lastMediaBefore: active.network.lastMediaAt)
            emit(.notice(.warning(.media, "\(RestartCause.networkChanged.rawValue) — reconnecting media")))
        } else {
            call?.network.restart?.sent = false  // the new allocation's address goes out afresh
            call?.network.restart?.sentAt = nil
        }
        call?.network.lastRestartAt = .now
        old.close(now: active.elapsed)
        call?.relay = nil
        await session.connection.networkChanged()
        await perform(call!.machine.handle(.restarting))
        await startRelay()
    }

    /// This device's relayed address to the peer, sealed; not awaited (the connection may be
    /// reconnecting, and a move sends it again until media comes back).
    private func announce(_ relayed: TransportAddress) {
        guard let active = call, let keys = active.keys, let payload = try? JSONEncoder().encode(Candidate(kind: .relay, address: relayed))
        else { return }
        let sealed = keys.sealSignal(Array(payload), fromCaller: active.isCaller, callID: active.callID)
        let (peer, callID) = (active.peer, active.callID)
        Task { [session] in
            try? await session.connection.sendCallSignal(
                to: peer, callID: callID, kind: CallSignal.Kind.relayAddress.rawValue, payload: sealed)
        }
    }

    /// The peer's relayed address, sealed under the call's keys (the server cannot point our
    /// media elsewhere): a channel to it. A new one on a relayed call means the other device
    /// moved: media gets a restart's longer silence meanwhile.
    func receiveRelayAddress(_ payload: [UInt8]) async {
        guard let active = call, let address = openSealed(payload, as: Candidate.self, naming: "a relay address") else { return }
        let moved = active.peerRelayedAddress.map { $0 != address.address } ?? false
        call?.peerRelayedAddress = address.address
        await permitPeerThroughRelay()
        if moved, case .connected(.relay) = active.machine.state { await perform(call!.machine.handle(.restarting)) }
    }

    /// The peer told us its relayed address: a channel to it once we are allocated.
    func permitPeerThroughRelay() async {
        guard let active = call, let relay = active.relay, let peer = active.peerRelayedAddress else { return }
        await carryOut(relay.permit(peer, now: active.elapsed))
    }
}
