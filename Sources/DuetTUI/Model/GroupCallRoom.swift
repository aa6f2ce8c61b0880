import DuetClient

/// The group call as the engine's events tell it, kept beside the pane's `GroupCallView`:
/// the group's members, who is in the room, which key epoch each member was given, and the
/// last hearing report. Every event is applied here as it comes (no snapshot is pulled back
/// from the engine), and the pane's rows are rebuilt from it — a pure value, tested alone.
struct GroupCallRoom: Equatable, Sendable {
    /// This device's number: never a row.
    var ownNumber: String?
    /// The group's members, the owner first when the owner is not listed as a member.
    var members: [String] = []
    /// Everyone else in the room, in the order the server listed them (joiners last).
    var participants: [String] = []
    /// The epoch of the last key this device gave each member (`.keyGiven`).
    var keyGiven: [String: UInt16] = [:]
    /// The last hearing report, by member.
    var hearing: [String: GroupCallHearing] = [:]
    /// Joins (true) and leaves (false) seen before the engine's answer to start or join was
    /// read: that answer is older than them.
    private var changedBeforeEntry: [String: Bool] = [:]
    private var entered = false

    init(ownNumber: String?) {
        self.ownNumber = ownNumber
    }

    /// The engine's answer to start or join: the group and the room as the server saw it then.
    mutating func enter(_ info: GroupCallInfo, view: inout GroupCallView, names: (String) -> String?) {
        setGroup(info.group)
        var room = info.participants.filter { $0 != ownNumber && changedBeforeEntry[$0] != false }
        room += participants.filter { !room.contains($0) && changedBeforeEntry[$0] == true }
        participants = room
        entered = true
        changedBeforeEntry = [:]
        view.groupID = info.group.id
        view.groupName = info.group.name
        view.callID = info.callID
        fill(&view, names: names)
    }

    /// The group as it is now (on entry, and after a rejoin: members added or removed while
    /// this device was cut off were told to nobody).
    private mutating func setGroup(_ group: GroupInfo) {
        var members = group.members
        if !members.contains(group.owner) { members.insert(group.owner, at: 0) }
        self.members = members
    }

    /// One event of the call in progress; rows are rebuilt when the room changed. An ended
    /// call keeps its last rows.
    mutating func apply(_ event: GroupCallEngineEvent, to view: inout GroupCallView, names: (String) -> String?) {
        switch event {
        case .keysWiped:
            view.keysWiped = true
            return
        case .ended:
            if view.phase.isActive { view.phase = .ended(reason: nil) }
            return
        default:
            break
        }
        guard view.phase.isActive else { return }
        switch event {
        case .mediaConnected:
            view.phase = .connected
            view.elapsedSeconds = 0
        case let .rejoined(_, group, others):
            setGroup(group)
            participants = others.filter { $0 != ownNumber }
            keyGiven = [:]
            hearing = [:]
        case let .joined(member): join(member)
        case let .left(member): leave(member)
        case let .memberAdded(member, _):
            if !members.contains(member) { members.append(member) }
        case let .memberRemoved(member, _):
            members.removeAll { $0 == member }
            leave(member)
        case let .rekey(cause, epoch):
            view.epoch = epoch
            if cause != .joined {
                view.rekeys += 1
                view.lastRekeyCause = Self.shortCause(cause)
            }
        case let .keyGiven(member, epoch): keyGiven[member] = epoch
        case let .hearing(reports): hearing = Dictionary(reports.map { ($0.member, $0) }) { _, last in last }
        case let .pictures(pictures):
            var video = view.video ?? GroupVideo()
            (video.pictures, video.camerasOff, video.own) = (pictures.members, pictures.camerasOff, pictures.own)
            view.video = video
            return
        default: return
        }
        fill(&view, names: names)
    }

    private mutating func join(_ member: String) {
        guard member != ownNumber else { return }
        if !entered { changedBeforeEntry[member] = true }
        if !participants.contains(member) { participants.append(member) }
    }

    /// A member gone from the room: the engine forgets what it gave them.
    private mutating func leave(_ member: String) {
        if !entered { changedBeforeEntry[member] = false }
        participants.removeAll { $0 == member }
        keyGiven[member] = nil
        hearing[member] = nil
    }

    /// The pane's rows: everyone in the room with what this device hears of them, then the
    /// members not in it, each marked when they hold this device's current key.
    func fill(_ view: inout GroupCallView, names: (String) -> String?) {
        view.participants = participants.map { number in
            let heard = hearing[number]
            return GroupParticipantRow(number: number, name: names(number), heard: heard?.heard ?? false, level: heard?.level)
        }
        let epoch = view.epoch
        view.invited = members.filter { $0 != ownNumber && !participants.contains($0) }.map { number in
            GroupInvitedRow(number: number, name: names(number), hasKey: epoch != nil && keyGiven[number] == epoch)
        }
    }

    /// Why a key changed, short enough for the pane.
    static func shortCause(_ cause: RekeyCause) -> String {
        switch cause {
        case .joined: "joined"
        case .memberLeft: "a member left"
        case .memberAdded: "a member was added"
        case .rejoined: "rejoined"
        }
    }
}
