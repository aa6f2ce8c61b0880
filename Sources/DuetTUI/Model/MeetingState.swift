/// The meeting pane's content (join by link, knock/admit, recording): built by the controller
/// from the meeting engine's events (`MeetingRoom`) with names already looked up, so the
/// renderer only lays it out. A meeting is cloud-encrypted; nothing here
/// can say end-to-end.
public struct MeetingView: Equatable, Sendable {
    public enum Phase: Equatable, Sendable {
        /// Asked the server to make the meeting, or to knock; no answer yet.
        case starting
        /// Knocked; the host has not decided.
        case waiting
        /// In the meeting; the DTLS-SRTP leg to the server is not up yet.
        case joining
        /// The leg is up.
        case connected
        /// Left, turned away, or the host ended it: `reason` says which.
        case ended(reason: String?)

        public var isActive: Bool { if case .ended = self { false } else { true } }
    }

    /// `duet://HOST:PORT/abc-defg-hij`; nil until the server made the meeting.
    public var link: String?
    public var code: String?
    public var isHost: Bool
    public var phase: Phase
    /// Whole seconds since the media leg came up; nil before.
    public var elapsedSeconds: Int?
    /// The server records the meeting: everyone sees REC.
    public var recording: Bool
    /// Everyone else inside, in order of admission.
    public var participants: [MeetingParticipantRow]
    /// Who waits at the door (the host's view only).
    public var knocking: [MeetingKnocker]
    /// True once the leg's keys were wiped (after leaving).
    public var keysWiped: Bool
    /// This device sends silence (m toggles it).
    public var muted = false
    /// The pictures, once anyone's or this camera's came (the tiles).
    public var video: GroupVideo?

    public init(
        link: String? = nil, code: String? = nil, isHost: Bool, phase: Phase = .starting, elapsedSeconds: Int? = nil,
        recording: Bool = false, participants: [MeetingParticipantRow] = [], knocking: [MeetingKnocker] = [],
        keysWiped: Bool = false
    ) {
        self.link = link
        self.code = code
        self.isHost = isHost
        self.phase = phase
        self.elapsedSeconds = elapsedSeconds
        self.recording = recording
        self.participants = participants
        self.knocking = knocking
        self.keysWiped = keysWiped
    }

    /// Inside (not knocking, not over): recording can be switched and voices heard.
    public var isInside: Bool { phase == .joining || phase == .connected }
}

/// One other participant of a meeting: who, their part, and what this device hears of them.
public struct MeetingParticipantRow: Equatable, Sendable {
    /// A registered device's number, or `guest-` and 8 hex digits.
    public var id: String
    /// The contact's name where known, else the name they gave.
    public var name: String
    public var guest: Bool
    public var isHost: Bool
    /// Their voice was recognised over the last second.
    public var heard: Bool
    /// dBFS over the last second; nil before the first report.
    public var level: Double?

    public init(id: String, name: String, guest: Bool, isHost: Bool, heard: Bool = false, level: Double? = nil) {
        self.id = id
        self.name = name
        self.guest = guest
        self.isHost = isHost
        self.heard = heard
        self.level = level
    }

    /// "Bob (host)", "Frank (guest)", "+15550009": the part in words, so it reads without colour.
    public var label: String {
        name + (isHost ? " (host)" : "") + (guest ? " (guest)" : "")
    }
}

/// Someone at the door, as the host's knock box and pane show them.
public struct MeetingKnocker: Equatable, Sendable {
    public var id: String
    /// The name they gave (a registered device's defaults to its number).
    public var name: String
    public var guest: Bool
    /// The contact's name when the number is in the contacts.
    public var contactName: String?

    public init(id: String, name: String, guest: Bool, contactName: String? = nil) {
        self.id = id
        self.name = name
        self.guest = guest
        self.contactName = contactName
    }

    /// "Frank — guest, not registered on this server", "Bob (+15550002), in your contacts",
    /// "+15550009, registered on this server".
    public var who: String {
        if guest { return "\(name) — guest, not registered on this server" }
        if let contactName { return "\(contactName) (\(id)), in your contacts" }
        return (name == id ? id : "\(name) (\(id))") + ", registered on this server"
    }

    /// "Frank (guest)", "Bob", "+15550009": short, for lists.
    public var shortName: String { contactName ?? (guest ? "\(name) (guest)" : name) }
}

/// The new-meeting box: two switches, then Enter.
public struct CreateMeetingPrompt: Equatable, Sendable {
    /// Anyone with the link comes straight in, without knocking.
    public var open: Bool
    /// The server records from the start.
    public var record: Bool

    public init(open: Bool = false, record: Bool = false) {
        self.open = open
        self.record = record
    }
}

/// The join box: the pasted link, and the name others see.
public struct JoinMeetingPrompt: Equatable, Sendable {
    public enum Field: Equatable, Sendable { case link, name }
    public var link: String
    public var name: String
    public var field: Field
    /// Why the last attempt was refused (not a link, another server, no name).
    public var error: String?

    public init(link: String = "", name: String = "", field: Field = .link, error: String? = nil) {
        self.link = link
        self.name = name
        self.field = field
        self.error = error
    }
}

/// Someone knocks at the host's meeting: admit or deny (or decide later).
public struct KnockPrompt: Equatable, Sendable {
    public var code: String
    public var knocker: MeetingKnocker
    /// Others waiting behind them, by short name.
    public var othersWaiting: [String]

    public init(code: String, knocker: MeetingKnocker, othersWaiting: [String] = []) {
        self.code = code
        self.knocker = knocker
        self.othersWaiting = othersWaiting
    }
}
