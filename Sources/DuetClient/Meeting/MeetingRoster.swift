import DuetWire

/// A meeting as it stands when this device gets in — made, let in at once, admitted, or back
/// after losing the server: who hosts, who is inside, who knocks, whether it records. Carried
/// by `MeetingEngineEvent.entered`, so a screen starts from it and follows the events after
/// without reading the engine back.
public struct MeetingRoster: Sendable, Equatable {
    public let code: String
    /// This device's participant id.
    public let you: String?
    /// The host's participant id.
    public let host: String
    /// Everyone inside, this device included, in order of admission.
    public let people: [MeetingPerson]
    /// Who waits at the door (told to the host only; empty for everyone else).
    public let knocking: [MeetingPerson]
    public let recording: Bool

    public init(code: String, you: String?, host: String, people: [MeetingPerson], knocking: [MeetingPerson] = [], recording: Bool) {
        self.code = code
        self.you = you
        self.host = host
        self.people = people
        self.knocking = knocking
        self.recording = recording
    }

    init(_ meeting: Signaling.Meeting) {
        self.init(
            code: meeting.code, you: meeting.you, host: meeting.host, people: meeting.participants.map(MeetingPerson.init),
            knocking: meeting.knocking.map(MeetingPerson.init), recording: meeting.recording)
    }

    /// Whether this device hosts the meeting.
    public var isHost: Bool { you == host }

    /// Everyone inside but this device.
    public var others: [MeetingPerson] { people.filter { $0.id != you } }
}
