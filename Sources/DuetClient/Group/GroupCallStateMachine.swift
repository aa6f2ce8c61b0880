import DuetWire

/// A group call's room as this device sees it, without I/O: which call it is entering or in,
/// who is in the room, who left it, who must hold this device's sender key, and what each
/// piece of the server's news means — a listener to add, keys to forget, a rekey, an event.
/// `GroupCallEngine` holds the keys, channels and legs, feeds this the news and carries out
/// its actions, so the rules can be read and tested apart from the network.
struct GroupCallStateMachine: Sendable {
    /// The room of the call this device is in.
    struct Room: Sendable, Equatable {
        let callID: String
        var group: GroupInfo
        var participants: [String]
        /// The version of the room `participants` came from (older announcements do not override it).
        var version: UInt64
        /// Members of the group who were in the room and left it: they get no key until they
        /// join again (a rung member who never joined does, so joining costs no rekey).
        var departed: Set<String> = []
        var mediaConnected = false
        /// True from rejoining until the key made for it is active: the new leg carries
        /// nothing under a key given before the break. (After two breaks in a row the first
        /// rejoin's key is never activated: the engine drops key work queued before a rejoin.)
        var holdsFrames = false
        /// Every key this device switched to, and why.
        var rekeys: [RekeyCause] = []

        /// Everyone who must hold this device's key: the group as it is now (members rung but
        /// not joined included, those who left the room not), and anyone still in the room.
        func keyHolders(excluding: Set<String> = []) -> [String] {
            Set(group.members + [group.owner]).subtracting(departed).union(participants).subtracting(excluding).sorted()
        }

        func isMember(_ number: String) -> Bool {
            group.members.contains(number) || group.owner == number
        }
    }

    enum State: Sendable, Equatable {
        case idle
        /// A start or join is on its way; room news of that call waits here for the reply
        /// (someone else joining at the same moment would otherwise never be heard).
        case entering(callID: String, news: [DeviceSession.GroupCallEvent])
        case inCall(Room)
    }

    enum Event: Sendable, Equatable {
        case entering(callID: String)
        case entered(GroupCallInfo)
        /// The start or join failed, or the call ended: back to idle.
        case out
        /// Back in after losing the server, in the room the server gives now.
        case rejoined(GroupCallInfo)
        case roomChanged(DeviceSession.GroupCallEvent)
        case groupChanged(GroupChange)
        case mediaConnected(route: String)
        /// The leg was replaced: media is down until its handshake finishes.
        case mediaLost
        /// This device switched to a new key (`cause`); a rejoin's key lets frames flow again.
        case rekeyed(RekeyCause)
    }

    enum Action: Sendable, Equatable {
        /// Listen to `member`'s frames (a stream in the pump).
        case listen(String)
        /// Drop what is held of these members: keys, streams, channels.
        case forget([String])
        /// Give `member` the current key, unless they hold it already.
        case giveCurrentKey(String)
        case rekey(RekeyCause, to: [String])
        case emit(GroupCallEngineEvent)
        /// News of a call this device is not in: perhaps a ring.
        case noteRing(DeviceSession.GroupCallEvent)
        /// News that came while entering, handled again now the call is set up.
        case replay(DeviceSession.GroupCallEvent)
        /// This device is out of the call (removed from the group).
        case leave(tellServer: Bool)
    }

    /// This device's number.
    let number: String
    private(set) var state: State = .idle

    init(number: String) {
        self.number = number
    }

    var room: Room? {
        if case let .inCall(room) = state { room } else { nil }
    }

    mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case let (_, .entering(callID)):
            state = .entering(callID: callID, news: [])
            return []
        case let (.entering(_, news), .entered(info)):
            let room = Room(callID: info.callID, group: info.group, participants: info.participants, version: info.version ?? 0)
            state = .inCall(room)
            // Members rung but not yet in the room get the key now, so their joining costs no
            // rekey; then what the room did while the request was on its way.
            return listeners(info.participants) + [.rekey(.joined, to: room.keyHolders())]
                + news.filter { $0.call.callID == info.callID }.map { .replay($0) }
        case (_, .out):
            state = .idle
            return []
        case let (.inCall(before), .rejoined(info)):
            return rejoined(before, info)
        case let (_, .roomChanged(change)):
            return roomChanged(change)
        case let (.inCall(room), .groupChanged(change)) where room.group.id == change.group.id:
            return groupChanged(room, change)
        case let (.inCall(room), .mediaConnected(route)):
            state = .inCall(with(room) { $0.mediaConnected = true })
            return [.emit(.mediaConnected(callID: room.callID, route: route))]
        case let (.inCall(room), .mediaLost):
            state = .inCall(with(room) { $0.mediaConnected = false })
            return []
        case let (.inCall(room), .rekeyed(cause)):
            state = .inCall(
                with(room) {
                    $0.rekeys.append(cause)
                    if cause == .rejoined { $0.holdsFrames = false }
                })
            return []
        default:
            return []
        }
    }

    private func listeners(_ participants: [String]) -> [Action] {
        participants.filter { $0 != number }.map { .listen($0) }
    }

    /// Someone joined (they get the current key unless they have it) or left (if still in the
    /// group, everyone left rotates so they cannot read what follows; a removal from the group
    /// was rotated for when the group changed).
    private mutating func roomChanged(_ change: DeviceSession.GroupCallEvent) -> [Action] {
        switch state {
        case let .entering(callID, news) where callID == change.call.callID:
            state = .entering(callID: callID, news: news + [change])
            return []
        case var .inCall(room) where room.callID == change.call.callID:
            // Concurrent joins are announced in any order: an older view of the room than the
            // one held already says nothing new about who is in it.
            if (change.call.version ?? .max) >= room.version {
                room.participants = change.call.participants
                room.version = change.call.version ?? room.version
            }
            var actions: [Action] = []
            // A join the room no longer shows (news replayed after entering, overtaken by a
            // newer change in which they left) gives nobody a key.
            for member in change.joined where member != number && room.participants.contains(member) {
                room.departed.remove(member)
                actions += [.listen(member), .emit(.joined(member)), .giveCurrentKey(member)]
            }
            let leavers = change.left.filter { $0 != number }
            actions += leavers.map { .emit(.left($0)) }
            if !leavers.isEmpty {
                room.participants.removeAll { leavers.contains($0) }
                room.departed.formUnion(leavers)
                actions.append(.forget(leavers))
                if leavers.contains(where: room.isMember) {
                    actions.append(.rekey(.memberLeft, to: room.keyHolders(excluding: Set(leavers))))
                }
            }
            state = .inCall(room)
            return actions
        default:
            return [.noteRing(change)]
        }
    }

    /// This device removed ends its part; a member removed makes everyone rotate (they held
    /// our key even if they never joined); a member added mid-call makes everyone rotate too,
    /// so they cannot read what was said before — and they are given the new key at once.
    private mutating func groupChanged(_ room: Room, _ change: GroupChange) -> [Action] {
        if change.removed.contains(number) {
            state = .idle
            return [.emit(.removedFromGroup(change.group.name, by: change.by)), .leave(tellServer: false)]
        }
        var room = room
        room.group = change.group
        let removed = change.removed.filter { $0 != number }
        let added = change.added.filter { $0 != number }
        var actions: [Action] = removed.map { .emit(.memberRemoved($0, by: change.by)) }
        actions += added.map { .emit(.memberAdded($0, by: change.by)) }
        room.departed.subtract(added)
        room.participants.removeAll { removed.contains($0) }
        let holders = room.keyHolders(excluding: Set(removed))
        if !removed.isEmpty {
            actions += [.forget(removed), .rekey(.memberLeft, to: holders)]
        } else if !added.isEmpty {
            actions.append(.rekey(.memberAdded, to: holders))
        }
        state = .inCall(room)
        return actions
    }

    /// Back in after losing the server: members removed meanwhile are forgotten, everyone in
    /// the room now is listened to afresh, frames wait for a new key that every holder gets.
    private mutating func rejoined(_ before: Room, _ info: GroupCallInfo) -> [Action] {
        let gone = Set(before.group.members + [before.group.owner]).subtracting(info.group.members + [info.group.owner])
        var room = Room(callID: before.callID, group: info.group, participants: info.participants, version: info.version ?? 0)
        room.holdsFrames = true
        room.rekeys = before.rekeys
        room.departed = before.departed
        state = .inCall(room)
        return [.forget(gone.sorted())] + listeners(info.participants)
            + [
                .emit(.rejoined(callID: room.callID, group: info.group, participants: info.participants)),
                .rekey(.rejoined, to: room.keyHolders())
            ]
    }

    private func with(_ room: Room, _ change: (inout Room) -> Void) -> Room {
        var room = room
        change(&room)
        return room
    }
}
