import DuetCrypto
import Foundation

/// The key exchange's last two steps (`CallKeyExchange`): the caller opening the callee's
/// answer, and the callee taking the caller's key confirmation and SAS reveal.
extension CallEngine {
    /// The callee's sealed answer (the caller's side): opened, its keys made and its key
    /// confirmation checked before anything else happens — X3DH's secret and the ephemeral key
    /// pair are used in `openedAnswer` alone and leave the call here, before the first await.
    func receiveAnswer(_ payload: [UInt8]) async {
        guard var active = call, active.isCaller, active.machine.state == .outgoing else { return }
        let opened: (answer: CallAnswer, keys: CallKeys, reveal: [UInt8])
        do {
            guard let answer = try openedAnswer(payload, active) else { return }
            opened = answer
        } catch {
            await perform(call!.machine.handle(.failed("\(error)")))
            return
        }
        let (answer, keys, reveal) = opened
        guard keys.verifyConfirmation([UInt8](answer.confirmation), fromCaller: false, callID: active.callID) else {
            await perform(call!.machine.handle(.failed(CallHandshakeError.confirmationFailed.description)))
            return
        }
        // The callee sent the answer, so it holds the keys; the offer's secrets go with the
        // phase (this copy's and the engine's alike).
        active.keyExchange = .keyed(.init(keys: keys))
        if answer.logsKeys { emit(.notPrivate(.keysLoggedByPeer)) }
        active.remoteCandidates = answer.candidates
        refused(answer.refusedCandidates)
        active.remoteSSRC = answer.ssrc
        active.peerTakesVideo = answer.takesVideo && options.takesVideo
        call = active
        await perform(call!.machine.handle(.answerReceived))
        // The confirmation, and the SAS's committed value revealed now the answer is in.
        await post(.confirm, Data(keys.confirmation(fromCaller: true, callID: active.callID) + reveal))
        await trickleIfReady()
        emit(.sas(keys.sas(reveal: reveal).description))
        await perform(call!.machine.handle(.keyConfirmed))
    }

    /// The answer opened under the offer's X3DH secret, the call's keys, and the SAS value to
    /// reveal; nil when the call is past its offer.
    private func openedAnswer(_ payload: [UInt8], _ active: ActiveCall) throws -> (answer: CallAnswer, keys: CallKeys, reveal: [UInt8])? {
        guard case let .offered(offered) = active.keyExchange else { return nil }
        let answer = try CallHandshake.openAnswer(
            Data(payload), callSecret: offered.callSecret, associatedData: active.associatedData, callID: active.callID)
        let keys = try CallHandshake.callerKeys(
            callSecret: offered.callSecret, ephemeral: offered.ephemeral, answer: answer, callerNonce: active.localNonce)
        return (answer, keys, offered.sasReveal.reveal)
    }

    /// The caller's key confirmation and its SAS's revealed value (the callee's side): the
    /// words are shown once the value opens the offer's commitment. Once: a second `confirm`
    /// (replayed by the server) finds the commitment used. A `confirm` that overtakes the
    /// receipt of our answer is proof the answer got out, so it is taken while answering too.
    func receiveConfirmation(_ payload: [UInt8]) async {
        guard let active = call, !active.isCaller else { return }
        let keys: CallKeys, commitment: [UInt8]
        switch active.keyExchange {
        case let .answering(answering): (keys, commitment) = (answering.keys, answering.peerSASCommitment)
        case let .keyed(keyed):
            guard let opened = keyed.peerSASCommitment else { return }
            (keys, commitment) = (keyed.keys, opened)
        case .offered, .wiped: return
        }
        let (code, reveal) = (Array(payload.prefix(CallKeys.confirmationCount)), Array(payload.dropFirst(CallKeys.confirmationCount)))
        if keys.verifyConfirmation(code, fromCaller: true, callID: active.callID), SASCommitment.opens(commitment, with: reveal) {
            call?.keyExchange = .keyed(.init(keys: keys))
            emit(.sas(keys.sas(reveal: reveal).description))
            await perform(call!.machine.handle(.keyConfirmed))
        } else {
            await perform(call!.machine.handle(.failed(CallHandshakeError.confirmationFailed.description)))
        }
    }
}
