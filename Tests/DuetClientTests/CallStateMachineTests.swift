import Testing

@testable import DuetClient

@Suite("Call state machine")
struct CallStateMachineTests {
    typealias M = CallStateMachine

    @Test func callerReachesTheRelayPathAfterKeyConfirmationAndAPath() {
        var m = M()
        #expect(m.handle(.dial(forceRelay: false)).contains(.sendOffer))
        #expect(m.state == .outgoing)
        let answered = m.handle(.answerReceived)
        #expect(m.state == .connecting)
        #expect(answered.contains(.startDirectChecks))
        #expect(answered.contains(.cancelTimer(.ring)))
        // A relay channel alone is not enough: no media before key confirmation.
        #expect(m.handle(.pathEstablished(.relay(.udp))).isEmpty)
        #expect(m.state == .connecting)
        let up = m.handle(.keyConfirmed)
        #expect(m.state == .connected(.relay(.udp)))
        #expect(up.contains(.startMedia(.relay(.udp))))
    }

    @Test func aDirectPathConfirmsTheKeysByItself() {
        // Its checks were authenticated under keys from the call session: the callee sends
        // without waiting for `confirm`.
        var m = M()
        _ = m.handle(.offerReceived(forceRelay: false))
        _ = m.handle(.userAccepted)
        #expect(m.state == .connecting)
        let up = m.handle(.pathEstablished(.p2p))
        #expect(m.state == .connected(.p2p))
        #expect(up.contains(.startMedia(.p2p)))
        #expect(m.keyConfirmed)
    }

    /// The relay decision rides in the offer's event: a callee asked for the relay only
    /// (`--relay` at the caller, or on this device) starts the relay and no direct checks.
    @Test func aCalleeAskedForTheRelayOnlyMakesNoDirectChecks() {
        var m = M()
        _ = m.handle(.offerReceived(forceRelay: true))
        let answering = m.handle(.userAccepted)
        #expect(answering.contains(.startRelay))
        #expect(!answering.contains(.startDirectChecks))
        var direct = M()
        _ = direct.handle(.offerReceived(forceRelay: false))
        #expect(direct.handle(.userAccepted).contains(.startDirectChecks))
    }

    @Test func directChecksTimingOutFallsBackToTheRelay() {
        var m = M()
        _ = m.handle(.dial(forceRelay: false))
        _ = m.handle(.answerReceived)
        _ = m.handle(.keyConfirmed)
        #expect(m.handle(.timerFired(.directChecks)) == [.startRelay])
        #expect(m.handle(.timerFired(.directChecks)).isEmpty)  // asked once only
        _ = m.handle(.pathEstablished(.relay(.udp)))
        #expect(m.state == .connected(.relay(.udp)))
    }

    @Test func forcedRelaySkipsDirectChecks() {
        var m = M()
        _ = m.handle(.dial(forceRelay: true))
        let answered = m.handle(.answerReceived)
        #expect(answered.contains(.startRelay))
        #expect(!answered.contains(.startDirectChecks))
    }

    @Test func calleeAcceptsAndAnswers() {
        var m = M()
        #expect(m.handle(.offerReceived(forceRelay: false)).contains(.alertUser))
        #expect(m.state == .incoming)
        let accepted = m.handle(.userAccepted)
        #expect(accepted.contains(.sendAnswer))
        _ = m.handle(.keyConfirmed)
        _ = m.handle(.pathEstablished(.p2p))
        #expect(m.state == .connected(.p2p))
    }

    @Test(arguments: [
        (M.Event.declineReceived, CallEndReason.declined),
        (M.Event.busyReceived, CallEndReason.busy),
        (M.Event.timerFired(.ring), CallEndReason.noAnswer),
        (M.Event.userHungUp, CallEndReason.cancelled)
    ])
    func outgoingEndings(_ event: M.Event, _ reason: CallEndReason) {
        var m = M()
        _ = m.handle(.dial(forceRelay: false))
        let actions = m.handle(event)
        #expect(m.state == .ended(reason))
        #expect(actions.contains(.wipeKeys))
    }

    @Test func calleeSeesTheCallerCancel() {
        var m = M()
        _ = m.handle(.offerReceived(forceRelay: false))
        _ = m.handle(.cancelReceived)
        #expect(m.state == .ended(.cancelled))
    }

    @Test func hangUpEitherSideStopsMediaAndWipesKeys() {
        for local in [true, false] {
            var m = M()
            _ = m.handle(.dial(forceRelay: false))
            _ = m.handle(.answerReceived)
            _ = m.handle(.keyConfirmed)
            _ = m.handle(.pathEstablished(.p2p))
            let actions = m.handle(local ? .userHungUp : .hangUpReceived)
            #expect(m.state == .ended(local ? .hungUp : .hungUpByPeer))
            #expect(actions.contains(.stopMedia))
            #expect(actions.contains(.wipeKeys))
            #expect(actions.contains(.sendHangUp) == local)
        }
    }

    @Test func peerThatFallsSilentEndsTheCall() {
        var m = M()
        _ = m.handle(.offerReceived(forceRelay: false))
        _ = m.handle(.userAccepted)
        _ = m.handle(.keyConfirmed)
        _ = m.handle(.pathEstablished(.relay(.udp)))
        #expect(m.handle(.mediaReceived) == [.startTimer(.mediaSilence, seconds: M.mediaSilenceTimeout)])
        _ = m.handle(.timerFired(.mediaSilence))
        guard case .ended(.failed) = m.state else {
            Issue.record("expected failure, got \(m.state)")
            return
        }
    }

    @Test func connectTimeoutWithoutKeyConfirmationSaysSo() {
        var m = M()
        _ = m.handle(.dial(forceRelay: false))
        _ = m.handle(.answerReceived)
        _ = m.handle(.pathEstablished(.relay(.tcp)))
        _ = m.handle(.timerFired(.connect))
        #expect(m.state == .ended(.failed("the other device never confirmed the call key")))
    }

    @Test func eventsThatDoNotFitChangeNothing() {
        var m = M()
        #expect(m.handle(.answerReceived).isEmpty)
        #expect(m.handle(.hangUpReceived).isEmpty)
        #expect(m.state == .idle)
        _ = m.handle(.dial(forceRelay: false))
        _ = m.handle(.userHungUp)
        #expect(m.handle(.answerReceived).isEmpty)
        #expect(m.state == .ended(.cancelled))
    }
}
