import DuetCrypto
import DuetWire
import Foundation

/// The call engine carrying out what its state machine decided (`CallStateMachine.Action`):
/// the only place the machine's decisions turn into signals, checks, relays, media and timers.
extension CallEngine {
    func perform(_ actions: [CallStateMachine.Action]) async {
        for action in actions {
            guard var active = call else { return }
            switch action {
            case let .stateChanged(state):
                emit(.state(state))
                recordHistory(state, of: active)
                // Over: the device is free at once, before the peer is told (a round trip).
                if case .ended = state { await session.release(.call(callID: active.callID)) }
            case .sendOffer:
                if case var .offered(offered) = active.keyExchange, let invitation = offered.invitation,
                    let payload = try? JSONEncoder().encode(invitation)
                {
                    offered.invitation = nil
                    active.keyExchange = .offered(offered)
                    call = active
                    do {
                        try await session.connection.sendCallSignal(
                            to: active.peer, callID: active.callID, kind: CallSignal.Kind.invite.rawValue, payload: Array(payload))
                    } catch {
                        if case .server(code: .unavailable, _) = error { await leaveMissedCall(active) }
                        await perform(call!.machine.handle(.failed("could not ring \(active.peer): \(error)")))
                        return
                    }
                }
            case .sendAnswer:
                await sendAnswer(active)
            case .sendDecline: await send(.decline, Data())
            case .sendCancel: await send(.cancel, Data())
            case .sendHangUp: await send(.hangup, Data())
            case .alertUser: break  // `.incoming` was emitted with the caller's details
            case .startDirectChecks:
                guard let keys = active.keys else { continue }
                active.checks = ConnectivityChecks(
                    role: active.isCaller ? .controlling : .controlled,
                    local: active.isCaller ? keys.caller : keys.callee,
                    remote: active.isCaller ? keys.callee : keys.caller,
                    remoteCandidates: active.transport.usable(active.remoteCandidates))
                call = active
                await keepChecksPaced()
            case .startRelay:
                await startRelay()
            case let .startMedia(path):
                startMedia(path)
            case .stopMedia:
                call?.pump.stopMedia()
            case .wipeKeys:
                wipe()
                if let callID = call?.callID { await session.release(.call(callID: callID)) }
            case let .startTimer(timer, requested):
                let seconds = timer == .ring ? options.ringTimeout : requested
                call?.timers[timer] = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            case let .cancelTimer(timer):
                call?.timers[timer] = nil
            }
        }
    }

    /// The callee's sealed answer: its nonce, ephemeral key, candidates, SSRC and confirmation.
    private func sendAnswer(_ active: ActiveCall) async {
        guard case let .answering(answering) = active.keyExchange else { return }
        var answer = CallAnswer(
            calleeNonce: Data(active.localNonce), calleeEphemeralKey: Data(answering.ephemeralKey),
            candidates: active.transport.candidates, ssrc: active.pump.outbound.ssrc,
            confirmation: Data(answering.keys.confirmation(fromCaller: false, callID: active.callID)))
        answer.logsKeys = options.keyLogPath != nil
        answer.takesVideo = options.takesVideo
        guard
            let sealed = try? CallHandshake.sealAnswer(
                answer, callSecret: answering.callSecret, associatedData: active.associatedData, callID: active.callID)
        else { return }
        await post(.answer, sealed)
        // The answer is out: the caller holds the keys, and X3DH's secret leaves the call (unless
        // the caller's `confirm` overtook the receipt and did both). The words come with that
        // `confirm`, which reveals the caller's committed value.
        if call?.callID == active.callID, case let .answering(still) = call?.keyExchange {
            call?.keyExchange = .keyed(.init(keys: still.keys, peerSASCommitment: still.peerSASCommitment))
        }
        await trickleIfReady()
    }

    /// Test hook: the objects holding this call's secrets (call secret, SRTP master keys,
    /// connectivity keys, SRTP sessions), so a test can hold weak references and see them
    /// all released once the call ends.
    func secretHolders() -> [any AnyObject & Sendable] {
        guard let active = call else { return [] }
        var holders: [any AnyObject & Sendable] = []
        holders += active.keyExchange.handshakeSecrets
        holders += active.keys?.secretHolders ?? []
        holders += active.pump.srtpSessions
        return holders
    }

    /// Test hook: the objects holding X3DH's secrets (the call secret, the caller's ephemeral
    /// private key) while the call still holds them — none once both devices hold its keys.
    func handshakeSecrets() -> [any AnyObject & Sendable] { call?.keyExchange.handshakeSecrets ?? [] }
}
