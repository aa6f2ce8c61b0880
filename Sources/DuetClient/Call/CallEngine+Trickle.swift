import DuetWire
import Foundation

/// A STUN Binding that gathering did not wait for (a callee answers at once; a caller waits no
/// longer than its prekey bundle takes), sent again until answered.
struct LateMapping: Sendable {
    let request: MappingRequest
    var sentAt = ContinuousClock.now
    var sent = 1

    /// How often the Binding goes again, and how often at most (with gathering's: about 2.5 s).
    static let interval = Duration.milliseconds(200)
    static let maximumSends = 10
}

/// Trickled candidates (docs/networking.md "Candidates and checks"): a call never waits for
/// its slowest gatherer. The
/// offer or answer leaves with the host candidates (and the server-reflexive one if it was
/// already known); a mapping learned afterwards goes to the peer in a `candidates` signal,
/// sealed under the call's keys like a restart — so only once the peer can open it (the caller
/// after the answer, the callee once it answered) — and the peer checks it like the others.
extension CallEngine {
    /// Every tick: the late Binding again when it is due.
    func resendLateMapping() {
        guard var late = call?.trickle.lateMapping, let server = call?.transport.serverMedia,
            ContinuousClock.now - late.sentAt >= LateMapping.interval
        else { return }
        guard late.sent < LateMapping.maximumSends else {
            call?.trickle.lateMapping = nil
            return
        }
        call?.transport.socket.send(late.request.bytes, to: server)
        late.sentAt = .now
        late.sent += 1
        call?.trickle.lateMapping = late
    }

    /// The answer to the late Binding: the mapping is trickled (true: the datagram was that answer).
    func learnLateMapping(_ bytes: [UInt8], from source: TransportAddress) async -> Bool {
        guard source == call?.transport.serverMedia, let mapped = call?.trickle.lateMapping?.request.mapped(in: bytes) else { return false }
        call?.trickle.lateMapping = nil
        call?.trickle.lateReflexive = mapped
        await trickleIfReady()
        return true
    }

    /// Sends the learned mapping once the peer holds the call's keys.
    func trickleIfReady() async {
        guard let active = call, active.keyExchange.peerHasKeys, !active.trickle.sent, let keys = active.keys,
            let mapped = active.trickle.lateReflexive,
            !active.transport.candidates.contains(where: { $0.address == mapped }),
            let payload = try? JSONEncoder().encode([Candidate(kind: .serverReflexive, address: mapped)])
        else { return }
        call?.trickle.sent = true
        await send(.candidates, Data(keys.sealSignal(Array(payload), fromCaller: active.isCaller, callID: active.callID)))
        emit(.trickled(Candidate(kind: .serverReflexive, address: mapped), sent: true))
    }

    /// Candidates the peer trickled: checked like those of its offer or answer, under the
    /// same bounds (`ConnectivityChecks.add`, `CallTransport.usable`).
    func receiveTrickle(_ payload: [UInt8]) async {
        guard let active = call, let decoded = openSealed(payload, as: PeerCandidates.self, naming: "trickled candidates") else { return }
        let (candidates, refusedReasons) = decoded.parts
        refused(refusedReasons)
        let usable = active.transport.usable(candidates)
        for candidate in usable { emit(.trickled(candidate, sent: false)) }
        if var checks = active.checks {
            checks.add(usable)
            call?.checks = checks
            await keepChecksPaced()
        } else {
            call?.remoteCandidates += usable.filter { candidate in !active.remoteCandidates.contains { $0.address == candidate.address } }
        }
    }
}
