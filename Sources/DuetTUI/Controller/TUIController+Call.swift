import DuetClient
import Foundation

/// Calls: placing them (with the key-change warning first) and following the engine.
extension TUIController {
    func callSelected(acceptKeyChange: Bool) {
        if let group = state.selectedGroup {
            callGroup(group)
            return
        }
        guard let contact = state.selectedContact else {
            show("no contact selected: press a to add one", .warning)
            return
        }
        if case .keyChanged = contact.trust, !acceptKeyChange {
            state.overlay = .keyChangedWarning(contact)
            return
        }
        call(contact, acceptKeyChange: acceptKeyChange)
    }

    func call(_ contact: ContactRow, acceptKeyChange: Bool) {
        if state.inCall {
            show("already in a call: hang up (h) first", .warning)
            return
        }
        state.call = CallView(
            peerNumber: contact.number, peerName: contact.name, peerTrust: contact.trust,
            outgoing: true, state: .idle)
        state.pane = .call
        connectedAt = nil
        log("calling \(contact.displayName)")
        Task {
            do {
                try await engine.place(to: contact.number, acceptKeyChange: acceptKeyChange)
            } catch let error as CallError {
                if case .contactKeyChanged = error {
                    state.overlay = .keyChangedWarning(contact)
                    await refreshContacts()
                }
                state.call?.state = .ended(.failed(error.description))
                show(error.description, .error)
            } catch {
                state.call?.state = .ended(.failed("\(error)"))
                show("could not call \(contact.displayName): \(error)", .error)
            }
            changed()
        }
    }

    /// News from the call engine.
    func apply(_ event: CallEngineEvent) {
        switch event {
        case let .incoming(from, name, trust):
            state.call = CallView(peerNumber: from, peerName: name, peerTrust: trust, outgoing: false, state: .incoming)
            connectedAt = nil
            state.overlay = .incoming(IncomingCall(number: from, name: name, trust: trust))
            log("incoming call from \(name.map { "\($0) (\(from))" } ?? from) — \(trust.label)", trust.isChanged ? .warning : .info)
        case let .state(callState):
            state.call?.state = callState
            switch callState {
            case .connected:
                connectedAt = ContinuousClock.now
                state.call?.elapsedSeconds = 0
                state.pane = .call
                log("connected", .good)
            case let .ended(reason):
                if case .incoming = state.overlay { state.overlay = nil }
                show("call ended: \(reason)", reason.isCompletedCall ? .info : .warning)
            case .outgoing:
                log("ringing")
            default:
                break
            }
        case let .path(path, address):
            state.call?.path = path
            log("media path \(path.label) via \(address)")
        case let .sas(words):
            state.call?.sas = words
            log("short authentication string: \(words)")
        case let .cipher(name):
            state.call?.cipher = name
        case let .hearing(report):
            state.call?.hearing = report
        case .firstAudio:
            log("first audio from the other side", .good)
        case let .mediaResumed(gap):
            log("media back after \(gap) ms without audio", .good)
        case .trickled:
            log(event.description)
        case let .notice(notice):
            show(notice.text, Severity(notice.severity))
        case let .notPrivate(reason):
            state.call?.warning = reason.description
            show(reason.description, .warning)
        case .keysWiped:
            state.call?.keysWiped = true
            log("call keys wiped (call secret, SRTP keys, connectivity keys)", .good)
        }
        changed()
    }
}

extension ContactTrust {
    var isChanged: Bool { if case .keyChanged = self { true } else { false } }
}
