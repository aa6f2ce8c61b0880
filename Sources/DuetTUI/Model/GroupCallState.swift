import DuetClient

/// The group call pane's content (path SFU, per-participant level meters, key epoch and
/// rekeys): built by the controller from the engine's events (`GroupCallRoom`), with names
/// already looked up, so the renderer only lays it out.
public struct GroupCallView: Equatable, Sendable {
    /// Where the call is: asking the server, in the room, or over.
    public enum Phase: Equatable, Sendable {
        /// Started or joined; the media leg to the SFU is not up yet.
        case joining
        /// The DTLS-SRTP leg to the SFU is up.
        case connected
        /// Left (or could not join: `reason` says why).
        case ended(reason: String?)

        public var isActive: Bool { if case .ended = self { false } else { true } }
    }

    public var groupID: String
    public var groupName: String
    /// Nil until the server gave the call an id.
    public var callID: String?
    public var phase: Phase
    /// Whole seconds since the media leg came up; nil before.
    public var elapsedSeconds: Int?
    /// The sender-key epoch this device sends under (nil before its first key is active).
    public var epoch: UInt16?
    /// Rekeys after this device's first key in the call (each a member leaving or being added).
    public var rekeys: Int
    /// Why the last rekey happened, in a few words ("a member left").
    public var lastRekeyCause: String?
    /// Everyone else in the room, in the order the server lists them.
    public var participants: [GroupParticipantRow]
    /// Group members not in the room (rung, or offline).
    public var invited: [GroupInvitedRow]
    /// True once every sender key of the call was wiped (after leaving).
    public var keysWiped: Bool
    /// This device sends silence (m toggles it).
    public var muted = false
    /// The pictures, once any member's or this camera's came (the tiles).
    public var video: GroupVideo?

    public init(
        groupID: String, groupName: String, callID: String? = nil, phase: Phase = .joining,
        elapsedSeconds: Int? = nil, epoch: UInt16? = nil, rekeys: Int = 0, lastRekeyCause: String? = nil,
        participants: [GroupParticipantRow] = [], invited: [GroupInvitedRow] = [], keysWiped: Bool = false
    ) {
        self.groupID = groupID
        self.groupName = groupName
        self.callID = callID
        self.phase = phase
        self.elapsedSeconds = elapsedSeconds
        self.epoch = epoch
        self.rekeys = rekeys
        self.lastRekeyCause = lastRekeyCause
        self.participants = participants
        self.invited = invited
        self.keysWiped = keysWiped
    }
}

/// A group call's pictures for the tiles (docs/video.md "Tiles"): each member's last, whose
/// camera is off, and this camera's.
public struct GroupVideo: Equatable, Sendable {
    public var pictures: [String: VideoPicture]
    public var camerasOff: Set<String>
    public var own: VideoPicture?
    /// This device's camera: on, off, or nil for none.
    public var cameraOn: Bool?

    public init(pictures: [String: VideoPicture] = [:], camerasOff: Set<String> = [], own: VideoPicture? = nil, cameraOn: Bool? = true) {
        self.pictures = pictures
        self.camerasOff = camerasOff
        self.own = own
        self.cameraOn = cameraOn
    }

    /// This camera switched: off, its tile says so instead of its last picture.
    public mutating func cameraSwitched(on: Bool) {
        cameraOn = on
        if !on { own = nil }
    }
}

/// One other participant of a group call: who, and what this device hears of them.
public struct GroupParticipantRow: Equatable, Sendable {
    public var number: String
    /// The contact's name when the store knows them.
    public var name: String?
    /// Their own voice was recognised over the last second.
    public var heard: Bool
    /// dBFS over the last second; nil before the first hearing report.
    public var level: Double?

    public init(number: String, name: String?, heard: Bool, level: Double?) {
        self.number = number
        self.name = name
        self.heard = heard
        self.level = level
    }

    /// The contact's name, or the number when there is none.
    public var shortName: String { name ?? number }
}

/// A member of the call's group who is not in the room.
public struct GroupInvitedRow: Equatable, Sendable {
    public var number: String
    public var name: String?
    /// This device gave them its current sender key: they can join without a rekey.
    public var hasKey: Bool

    public init(number: String, name: String?, hasKey: Bool) {
        self.number = number
        self.name = name
        self.hasKey = hasKey
    }

    public var shortName: String { name ?? number }
}

/// A group call ringing this device, as the incoming box shows it.
public struct IncomingGroupCall: Equatable, Sendable {
    public var callID: String
    public var groupName: String
    /// Who is in the room already, by name where known.
    public var participants: [String]
    /// How many members the group has (this device included).
    public var memberCount: Int

    public init(callID: String, groupName: String, participants: [String], memberCount: Int) {
        self.callID = callID
        self.groupName = groupName
        self.participants = participants
        self.memberCount = memberCount
    }
}

/// The new-group box: a name, then members' numbers separated by spaces.
public struct CreateGroupPrompt: Equatable, Sendable {
    public enum Field: Equatable, Sendable { case name, members }
    public var name: String
    public var members: String
    public var field: Field
    /// Why the last attempt was refused (no name, a bad number, the server said no).
    public var error: String?

    public init(name: String = "", members: String = "", field: Field = .name, error: String? = nil) {
        self.name = name
        self.members = members
        self.field = field
        self.error = error
    }

    /// The numbers typed, in order, without repeats.
    public var memberNumbers: [String] {
        var seen: Set<String> = []
        return members.split(separator: " ").map(String.init).filter { seen.insert($0).inserted }
    }
}

/// Adding someone to, or removing someone from, the group of the call in progress.
public struct GroupMemberPrompt: Equatable, Sendable {
    public enum Action: Equatable, Sendable { case add, remove }
    public var action: Action
    public var groupID: String
    public var groupName: String
    public var number: String
    /// For removal: the members one may pick with ↑/↓ instead of typing a number.
    public var choices: [Choice]
    public var error: String?

    /// A member offered for removal.
    public struct Choice: Equatable, Sendable {
        public var number: String
        public var name: String?

        public init(number: String, name: String?) {
            self.number = number
            self.name = name
        }
    }

    public init(
        action: Action, groupID: String, groupName: String, number: String = "", choices: [Choice] = [],
        error: String? = nil
    ) {
        self.action = action
        self.groupID = groupID
        self.groupName = groupName
        self.number = number
        self.choices = choices
        self.error = error
    }
}
