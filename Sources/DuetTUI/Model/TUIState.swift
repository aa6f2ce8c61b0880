import DuetClient

/// Everything the terminal shows, as one value: the controller updates it from the device,
/// the call engine and the keyboard; `ScreenRenderer` turns it into a `ScreenModel`. Times
/// are already turned into text and counts here, so drawing stays a pure function.
public struct TUIState: Equatable, Sendable {
    public var profile: String
    public var ownNumber: String?
    public var ownName: String?
    public var server: ServerStatus
    /// The short form of this device's identity fingerprint ("1A2B 3C4D").
    public var ownFingerprintShort: String
    public var contacts: [ContactRow]
    /// The groups this device's number is in, listed under the contacts.
    public var groups: [GroupRow] = []
    /// Index of the highlighted row in `contacts` followed by `groups` (clamped by the renderer).
    public var selected: Int
    /// What the right-hand pane shows.
    public var pane: Pane
    /// A box drawn over everything else, taking the keys while it is up.
    public var overlay: Overlay?
    /// The call, group call or meeting in progress — or the last one, whose final view stays
    /// on screen until the next begins. One value, so "one call at a time" needs no checks
    /// across three optionals.
    public var conversation: ConversationView = .none
    public var keys: KeysView?
    public var safetyNumber: SafetyNumberView?
    /// The call history's lines (`HistoryLines`), newest first, as last loaded.
    public var history: [String]?
    /// Newest last.
    public var log: [LogEntry]
    public var showLog: Bool
    /// One line above the key hints: the latest error or notice, with what to do.
    public var message: StatusMessage?

    public init(
        profile: String, ownNumber: String? = nil, ownName: String? = nil, server: ServerStatus,
        ownFingerprintShort: String, contacts: [ContactRow] = [], selected: Int = 0, pane: Pane = .contact,
        overlay: Overlay? = nil, call: CallView? = nil, keys: KeysView? = nil, safetyNumber: SafetyNumberView? = nil,
        log: [LogEntry] = [], showLog: Bool = false, message: StatusMessage? = nil
    ) {
        self.profile = profile
        self.ownNumber = ownNumber
        self.ownName = ownName
        self.server = server
        self.ownFingerprintShort = ownFingerprintShort
        self.contacts = contacts
        self.selected = selected
        self.pane = pane
        self.overlay = overlay
        self.conversation = call.map(ConversationView.call) ?? .none
        self.keys = keys
        self.safetyNumber = safetyNumber
        self.log = log
        self.showLog = showLog
        self.message = message
    }

    /// The highlighted contact, if any.
    public var selectedContact: ContactRow? {
        contacts.indices.contains(selected) ? contacts[selected] : nil
    }

    /// True while a 1:1 or group call is ringing, joining or connected, or a meeting is
    /// being made, knocked at or attended.
    public var inCall: Bool { conversation.isActive }

    /// The highlighted group, if the highlight is below the contacts.
    public var selectedGroup: GroupRow? {
        groups.indices.contains(selected - contacts.count) ? groups[selected - contacts.count] : nil
    }

    /// The right-hand pane's content.
    public enum Pane: Equatable, Sendable {
        /// Details of the highlighted contact.
        case contact
        /// The safety number of `safetyNumber` (12 groups), with verify / unverify.
        case safetyNumber
        /// This device's keys (`keys`).
        case keys
        /// The active or last call (`call`).
        case call
        /// The active or last group call (`groupCall`).
        case groupCall
        /// The active or last meeting (`meeting`).
        case meeting
        /// The call history (`history`).
        case history
    }

    /// Boxes over the screen.
    public enum Overlay: Equatable, Sendable {
        case help
        case incoming(IncomingCall)
        /// Typing a new contact: number, then name.
        case addContact(AddContactPrompt)
        case confirmRemove(ContactRow)
        /// Before ringing a contact whose key changed: compare, call anyway, or cancel.
        case keyChangedWarning(ContactRow)
        /// A group call rings: join or dismiss.
        case incomingGroupCall(IncomingGroupCall)
        /// Typing a new group: name, then members.
        case createGroup(CreateGroupPrompt)
        /// Adding or removing a member of the group in the call.
        case groupMember(GroupMemberPrompt)
        /// Making a meeting: open or knock-first, recorded or not.
        case createMeeting(CreateMeetingPrompt)
        /// Pasting a meeting link to knock with.
        case joinMeeting(JoinMeetingPrompt)
        /// The host's box: someone knocks.
        case knock(KnockPrompt)
    }
}

/// The server as the status bar shows it.
public struct ServerStatus: Equatable, Sendable {
    public enum State: Equatable, Sendable {
        case connecting
        case connected
        case reconnecting(attempt: Int)
        /// Gave up; the text says what happened and what to do.
        case failed(String)
    }

    public var address: String
    public var state: State
    /// True when duet started the server itself (no server configured for the profile).
    public var embedded: Bool

    public init(address: String, state: State, embedded: Bool) {
        self.address = address
        self.state = state
        self.embedded = embedded
    }
}

/// One row of the contact list.
public struct ContactRow: Equatable, Sendable {
    public var number: String
    public var name: String?
    public var trust: ContactTrust
    /// Nil when the server has not said.
    public var online: Bool?
    /// A note shown in the details pane (bots say what they do).
    public var note: String?

    public init(number: String, name: String?, trust: ContactTrust, online: Bool?, note: String? = nil) {
        self.number = number
        self.name = name
        self.trust = trust
        self.online = online
        self.note = note
    }

    /// "Bob (+15550002)" or the number alone.
    public var displayName: String { name.map { "\($0) (\(number))" } ?? number }
}

/// One group in the list: its members by display name (contacts' names where known).
public struct GroupRow: Equatable, Sendable {
    public var id: String
    public var name: String
    public var owner: String
    /// "Bob (+15550002)" or the bare number, sorted as the server lists them.
    public var members: [String]

    public init(id: String, name: String, owner: String, members: [String]) {
        self.id = id
        self.name = name
        self.owner = owner
        self.members = members
    }
}

/// Someone ringing, as the incoming-call box shows them.
public struct IncomingCall: Equatable, Sendable {
    public var number: String
    public var name: String?
    public var trust: ContactTrust

    public init(number: String, name: String?, trust: ContactTrust) {
        self.number = number
        self.name = name
        self.trust = trust
    }
}

/// The add-contact box: two fields typed in turn.
public struct AddContactPrompt: Equatable, Sendable {
    public enum Field: Equatable, Sendable { case number, name }
    public var number: String
    public var name: String
    public var field: Field
    /// Why the last attempt was refused (bad number, unknown on the server).
    public var error: String?

    public init(number: String = "", name: String = "", field: Field = .number, error: String? = nil) {
        self.number = number
        self.name = name
        self.field = field
        self.error = error
    }
}

/// The call pane's content.
public struct CallView: Equatable, Sendable {
    public var peerNumber: String
    public var peerName: String?
    public var peerTrust: ContactTrust
    public var outgoing: Bool
    public var state: CallState
    /// Whole seconds since the call connected; nil before.
    public var elapsedSeconds: Int?
    public var path: MediaPath?
    public var cipher: String?
    /// The four SAS words, once keys are agreed.
    public var sas: String?
    /// The latest once-a-second report of what this side hears.
    public var hearing: HearingReport?
    public var muted: Bool
    /// True once the call's keys were wiped (after it ended).
    public var keysWiped: Bool
    /// Set when DUET_SRTP_KEYLOG is on: the call is not private.
    public var warning: String?
    /// The pictures, once the call has video (nil: a voice call, or over).
    public var video: CallVideo?

    public init(
        peerNumber: String, peerName: String?, peerTrust: ContactTrust, outgoing: Bool, state: CallState,
        elapsedSeconds: Int? = nil, path: MediaPath? = nil, cipher: String? = nil, sas: String? = nil,
        hearing: HearingReport? = nil, muted: Bool = false, keysWiped: Bool = false, warning: String? = nil
    ) {
        self.peerNumber = peerNumber
        self.peerName = peerName
        self.peerTrust = peerTrust
        self.outgoing = outgoing
        self.state = state
        self.elapsedSeconds = elapsedSeconds
        self.path = path
        self.cipher = cipher
        self.sas = sas
        self.hearing = hearing
        self.muted = muted
        self.keysWiped = keysWiped
        self.warning = warning
    }
}

/// The keys screen's content.
public struct KeysView: Equatable, Sendable {
    /// Eight groups of four hex digits.
    public var fingerprint: String
    public var oneTimePrekeys: Int
    public var signedPrekeyID: UInt32
    /// "3 days", "5 hours" — already worded.
    public var signedPrekeyAge: String

    public init(fingerprint: String, oneTimePrekeys: Int, signedPrekeyID: UInt32, signedPrekeyAge: String) {
        self.fingerprint = fingerprint
        self.oneTimePrekeys = oneTimePrekeys
        self.signedPrekeyID = signedPrekeyID
        self.signedPrekeyAge = signedPrekeyAge
    }
}

/// A contact's safety number, as the verify screen shows it.
public struct SafetyNumberView: Equatable, Sendable {
    public var contact: ContactRow
    /// Twelve groups of five digits.
    public var groups: [String]

    public init(contact: ContactRow, groups: [String]) {
        self.contact = contact
        self.groups = groups
    }
}

/// One line of the event log.
public struct LogEntry: Equatable, Sendable {
    /// "14:03:27".
    public var time: String
    public var text: String
    public var severity: Severity

    public init(time: String, text: String, severity: Severity = .info) {
        self.time = time
        self.text = text
        self.severity = severity
    }
}

public enum Severity: Equatable, Sendable {
    case info, good, warning, error

    /// How a device's notice shows: by the severity it carries, never by its words.
    init(_ severity: Notice.Severity) {
        switch severity {
        case .info: self = .info
        case .warning: self = .warning
        }
    }
}

/// The message line: the latest thing the user should read.
public struct StatusMessage: Equatable, Sendable {
    public var text: String
    public var severity: Severity

    public init(_ text: String, severity: Severity = .info) {
        self.text = text
        self.severity = severity
    }
}

/// A call's video as the call pane draws it (`CallVideoView`).
public struct CallVideo: Equatable, Sendable {
    /// The peer's last picture; nil before the first.
    public var peer: VideoPicture?
    /// This camera's last picture; nil while it is off.
    public var own: VideoPicture?
    /// The peer said its camera is off.
    public var peerCameraOff: Bool
    /// This device's camera: on, off, or nil for none.
    public var cameraOn: Bool?

    public init(peer: VideoPicture? = nil, own: VideoPicture? = nil, peerCameraOff: Bool = false, cameraOn: Bool? = true) {
        self.peer = peer
        self.own = own
        self.peerCameraOff = peerCameraOff
        self.cameraOn = cameraOn
    }
}
