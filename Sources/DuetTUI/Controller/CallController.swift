import DuetClient
import Foundation

/// 1:1 calls: placing one (after the key-change warning), answering the ringing box, and the
/// call engine's news applied to the call pane and the log. Works on the controller's state
/// in its isolation; holds nothing of its own.
struct CallController: Sendable {
    let engine: CallEngine

    /// Rings `contact`; the pane shows the call at once, before the engine has done anything.
    func call(_ contact: ContactRow, acceptKeyChange: Bool, _ tui: isolated TUIController) {
        if tui.state.inCall {
            tui.show("already in a call: hang up (h) first", .warning)
            return
        }
        tui.state.conversation = .call(
            CallView(peerNumber: contact.number, peerName: contact.name, peerTrust: contact.trust, outgoing: true, state: .idle))
        tui.state.pane = .call
        tui.connectedAt = nil
        tui.log("calling \(contact.displayName)")
        Task { await place(contact, acceptKeyChange: acceptKeyChange, tui) }
    }

    private func place(_ contact: ContactRow, acceptKeyChange: Bool, _ tui: isolated TUIController) async {
        do {
            try await engine.place(to: contact.number, acceptKeyChange: acceptKeyChange)
        } catch let error as CallError {
            if case .contactKeyChanged = error {
                tui.state.overlay = .keyChangedWarning(contact)
                await tui.contacts.refresh(tui)
            }
            tui.state.call?.state = .ended(.failed(error.description))
            tui.show(error.description, .error)
        } catch {
            tui.state.call?.state = .ended(.failed("\(error)"))
            tui.show("could not call \(contact.displayName): \(error)", .error)
        }
        tui.changed()
    }

    /// The ringing box: `a` answers (leaving a group call or meeting first), `d` declines.
    func answer(_ ringing: IncomingCall, _ key: KeyPress, _ tui: isolated TUIController) async {
        switch key {
        case .character("a"), .enter:
            tui.state.overlay = nil
            let previous = tui.state.conversation
            if tui.state.call?.state != .incoming {
                tui.state.conversation = .call(
                    CallView(
                        peerNumber: ringing.number, peerName: ringing.name, peerTrust: ringing.trust, outgoing: false,
                        state: .incoming))
                tui.connectedAt = nil
            }
            tui.state.pane = .call
            switch previous {
            case let .group(call) where call.phase.isActive: await tui.groupCalls?.engine.leave()
            case let .meeting(meeting) where meeting.phase.isActive: await tui.meetings.engine.leave()
            default: break
            }
            await engine.accept()
        case .character("d"), .escape:
            tui.state.overlay = nil
            await engine.decline()
        default: break
        }
    }

    /// `V`: this camera off or back on; the other side is told and shows "camera off".
    func toggleCamera(_ tui: isolated TUIController) async {
        guard let call = tui.state.call, call.state.isActive, let on = await engine.cameraOn else {
            tui.show("no camera in this call", .warning)
            return
        }
        guard await engine.setCamera(on: !on) else { return }
        var video = tui.state.call?.video ?? CallVideo()
        video.cameraOn = !on
        if on { video.own = nil }
        tui.state.call?.video = video
        tui.log(on ? "camera off: the other side sees \"camera off\"" : "camera on")
    }

    /// News from the call engine. A ring during a group call or meeting shows only its box;
    /// the call takes the pane when answered.
    func apply(_ event: CallEngineEvent, _ tui: isolated TUIController) {
        switch event {
        case let .incoming(from, name, trust):
            switch tui.state.conversation {
            case .group, .meeting:
                break  // its final view (or the call in progress) stays until the ring is answered
            case .none, .call:
                tui.state.conversation = .call(
                    CallView(peerNumber: from, peerName: name, peerTrust: trust, outgoing: false, state: .incoming))
                tui.connectedAt = nil
            }
            tui.state.overlay = .incoming(IncomingCall(number: from, name: name, trust: trust))
            tui.log("incoming call from \(name.map { "\($0) (\(from))" } ?? from) — \(trust.label)", trust.isChanged ? .warning : .info)
        case let .state(callState):
            apply(callState, tui)
        case let .path(path, address):
            tui.state.call?.path = path
            tui.log("media path \(path.label) via \(address)")
        case let .sas(words):
            tui.state.call?.sas = words
            tui.log("short authentication string: \(words)")
        case let .cipher(name):
            tui.state.call?.cipher = name
        case let .hearing(report):
            tui.state.call?.hearing = report
        case .firstAudio:
            tui.log("first audio from the other side", .good)
        case .seeing:
            break  // the pictures themselves are on screen
        case let .pictures(pictures):
            guard tui.state.call?.state.isActive == true else { break }
            var video = tui.state.call?.video ?? CallVideo()
            if let peer = pictures.peer { video.peer = peer }
            video.own = pictures.own
            tui.state.call?.video = video
        case let .peerCamera(on):
            var video = tui.state.call?.video ?? CallVideo()
            video.peerCameraOff = !on
            tui.state.call?.video = video
            tui.log("\(tui.state.call?.peerName ?? "the other side") turned the camera \(on ? "on" : "off")")
        case let .mediaResumed(gap):
            tui.log("media back after \(gap) ms without audio", .good)
        case .trickled:
            tui.log(event.description)
        case let .notice(notice):
            tui.show(notice.text, Severity(notice.severity))
        case let .notPrivate(reason):
            tui.state.call?.warning = reason.description
            tui.show(reason.description, .warning)
        case .keysWiped:
            tui.state.call?.keysWiped = true
            tui.log("call keys wiped (call secret, SRTP keys, connectivity keys)", .good)
        }
        tui.changed()
    }

    private func apply(_ callState: CallState, _ tui: isolated TUIController) {
        tui.state.call?.state = callState
        switch callState {
        case .connected:
            if tui.state.call != nil {
                tui.connectedAt = ContinuousClock.now
                tui.state.call?.elapsedSeconds = 0
                tui.state.pane = .call
            }
            tui.log("connected", .good)
        case let .ended(reason):
            if case .incoming = tui.state.overlay { tui.state.overlay = nil }
            tui.state.call?.video = nil
            tui.show("call ended: \(reason)", reason.isCompletedCall ? .info : .warning)
        case .outgoing:
            tui.log("ringing")
        default:
            break
        }
    }
}

extension ContactTrust {
    var isChanged: Bool { if case .keyChanged = self { true } else { false } }
}
