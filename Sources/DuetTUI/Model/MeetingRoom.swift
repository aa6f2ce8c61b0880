import DuetClient

/// The meeting as the engine's events tell it, kept beside the pane's `MeetingView`: who is
/// inside, who knocks, who hosts, and the last hearing report. Events are applied as they
/// come, the room as it stands when this device gets in included (`.entered`); nothing is
/// read back from the engine. A pure value, tested alone.
struct MeetingRoom: Equatable, Sendable {
    /// This device's participant id, once inside.
    var you: String?
    var host: String?
    /// Everyone else inside, in order of admission.
    var people: [MeetingPerson] = []
    /// Who waits at the door (told to the host only).
    var knocking: [MeetingPerson] = []
    /// The last hearing report, by participant id.
    var hearing: [String: MeetingHearing] = [:]

    /// The meeting as it stands when this device gets in: its media leg is not up yet, and
    /// nobody has been heard on it.
    private mutating func enter(_ roster: MeetingRoster, view: inout MeetingView) {
        view.code = roster.code
        view.phase = .joining
        hearing = [:]
        you = roster.you
        host = roster.host
        view.isHost = roster.isHost
        view.recording = roster.recording
        people = roster.others
        knocking = roster.knocking
    }

    /// One event of the meeting in progress. An ended meeting keeps its last rows.
    mutating func apply(_ event: MeetingEngineEvent, to view: inout MeetingView, names: (String) -> String?) {
        switch event {
        case .keysWiped:
            view.keysWiped = true
            return
        case let .ended(ending):
            view.phase = .ended(reason: ending.description)
            view.recording = false
            view.knocking = []
            return
        default:
            break
        }
        guard view.phase.isActive else { return }
        switch event {
        case let .created(link):
            view.link = link.description
            view.code = link.code
        case .waiting: view.phase = .waiting
        case let .entered(roster):
            guard view.code == nil || view.code == roster.code else { return }
            enter(roster, view: &view)
        case let .knocking(people): knocking = people
        case let .joined(person):
            if person.id != you, !people.contains(where: { $0.id == person.id }) { people.append(person) }
        case let .left(person):
            people.removeAll { $0.id == person.id }
            hearing[person.id] = nil
        case let .recording(on): view.recording = on
        case let .pictures(pictures):
            var video = view.video ?? GroupVideo()
            (video.pictures, video.camerasOff, video.own) = (pictures.members, pictures.camerasOff, pictures.own)
            view.video = video
        case .mediaConnected:
            view.phase = .connected
            view.elapsedSeconds = 0
        case let .hearing(reports):
            hearing = Dictionary(reports.map { ($0.participant.id, $0) }) { _, last in last }
        default: return
        }
        fill(&view, names: names)
    }

    /// The pane's rows, names looked up in the contacts (a guest keeps the name they gave).
    func fill(_ view: inout MeetingView, names: (String) -> String?) {
        view.participants = people.map { person in
            let heard = hearing[person.id]
            return MeetingParticipantRow(
                id: person.id, name: person.guest ? person.name : names(person.id) ?? person.name,
                guest: person.guest, isHost: person.id == host, heard: heard?.heard ?? false, level: heard?.level)
        }
        view.knocking = knocking.map { person in
            MeetingKnocker(id: person.id, name: person.name, guest: person.guest, contactName: person.guest ? nil : names(person.id))
        }
    }
}
