import Foundation

/// A 1:1 call's record in the device's history (docs/history.md) follows its states: begun
/// when it rings, connected with its path and whether the peer's key was the verified one,
/// ended with how.
extension CallEngine {
    func recordHistory(_ state: CallState, of active: ActiveCall) {
        let history = CallHistory(store: session.store)
        let direction: CallRecord.Direction = active.isCaller ? .outgoing : .incoming
        let contact = try? session.store.contact(number: active.peer)
        let problem: Notice? =
            switch state {
            case .outgoing, .incoming:
                history.began(
                    CallRecord(kind: .call, direction: direction, peer: active.peer, peerName: contact?.name, callID: active.callID))
            case let .connected(path):
                history.connected(
                    .call, active.callID, path: path.label, verified: { if case .verified = contact?.trust { true } else { false } }())
            case let .ended(reason):
                history.ended(.call, active.callID, ifNeverConnected: .of(reason, direction: direction))
            case .idle, .connecting:
                nil
            }
        if let problem { emit(.notice(problem)) }
    }

    /// The callee's device is away: a sealed notice tells it, when it is back, that this device
    /// called (docs/history.md "Missed calls").
    func leaveMissedCall(_ active: ActiveCall) async {
        guard let key = active.peerKey, let own = try? session.store.account().number else { return }
        do {
            let notice = MissedCallNotice(from: own, to: active.peer, callID: active.callID, video: options.takesVideo)
            try await session.connection.leaveNotice(for: active.peer, sealed: try notice.sealed(by: try session.store.identity(), to: key))
            emit(.notice(Notice(.missedCall(number: active.peer), .info, "\(active.peer) is away: they will see that you called")))
        } catch {
            emit(.notice(.warning(.history, "could not leave \(active.peer) a missed-call notice: \(error)")))
        }
    }
}
