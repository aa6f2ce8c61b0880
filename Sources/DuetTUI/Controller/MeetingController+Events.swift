import DuetClient
import Foundation

/// The meeting engine's events: each applied to the pane as it comes, and told in the log
/// (all but the hearing reports).
extension MeetingController {
    func apply(_ event: MeetingEngineEvent, _ tui: isolated TUIController) async {
        log(event, tui)
        switch event {
        case .mediaConnected:
            if tui.state.meeting != nil { tui.connectedAt = ContinuousClock.now }
        case let .ended(ending):
            if case .knock? = tui.state.overlay { tui.state.overlay = nil }
            tui.show("meeting ended: \(ending)", ending == .left ? .info : .warning)
        default:
            break
        }
        update(tui) { view, room, names in room.apply(event, to: &view, names: names) }
        if tui.state.meeting?.phase.isActive == true { tui.knocks.updateBox(tui) }
        tui.changed()
    }

    private func log(_ event: MeetingEngineEvent, _ tui: isolated TUIController) {
        switch event {
        case let .created(link):
            tui.log("meeting \(link.code) made: share \(link); people knock and you admit them", .good)
        case let .waiting(code):
            tui.log("knocked at \(code); waiting for the host to let you in")
        case let .admitted(code):
            tui.log("the host let you in to \(code)", .good)
        case let .knocking(people):
            if !people.isEmpty { tui.log("knocking: " + people.map { name($0, tui.state) }.joined(separator: ", ")) }
        case let .joined(person):
            tui.log("\(name(person, tui.state)) joined the meeting")
        case let .left(person):
            tui.log("\(name(person, tui.state)) left the meeting")
        case let .recording(on):
            tui.log(on ? "REC: the server is recording this meeting (everyone sees REC)" : "recording stopped", on ? .warning : .info)
        case .mediaConnected:
            tui.log(event.description, .good)
        case let .leg(text):
            tui.log("meeting: \(text)")
        case let .notice(notice):
            tui.log("meeting: \(notice.text)", Severity(notice.severity))
        case .keysWiped:
            tui.log("meeting keys wiped (the DTLS-SRTP leg's keys)", .good)
        case .entered, .hearing, .seeing, .pictures, .ended:
            break
        }
    }

    /// "Bob (+15550002)", "Frank (guest)", or the name they gave.
    private func name(_ person: MeetingPerson, _ state: TUIState) -> String {
        if person.guest { return "\(person.name) (guest)" }
        return state.contactName(person.id).map { "\($0) (\(person.id))" } ?? person.name
    }
}
