import DuetWire

/// Who is in which group call (docs/group-calls.md). The server needs it to admit only
/// members, to tell everyone who joined and left (each change is a rekey for the clients),
/// and — with the SFU — to route media to the room. Membership of the *group* is checked by
/// the caller against the directory on every request; this registry holds only the rooms.
actor GroupCallRegistry {
    private struct Room {
        var group: Signaling.Group
        var participants: Set<String> {
            didSet { version += 1 }
        }
        var version: UInt64 = 1
    }

    private var rooms: [String: Room] = [:]

    /// Opens a room with its first participant.
    func start(_ callID: String, group: Signaling.Group, by number: String) throws(DirectoryError) -> Signaling.GroupCall {
        guard rooms[callID] == nil else { throw .callExists(callID) }
        rooms[callID] = Room(group: group, participants: [number])
        return call(callID)!
    }

    /// The room's group id, if the call exists.
    func groupID(of callID: String) -> String? { rooms[callID]?.group.id }

    /// Adds `number` (already checked to be a member of the room's group, `group`).
    func join(_ callID: String, number: String, group: Signaling.Group) throws(DirectoryError) -> Signaling.GroupCall {
        guard rooms[callID] != nil else { throw .unknownCall(callID) }
        rooms[callID]?.group = group
        rooms[callID]?.participants.insert(number)
        return call(callID)!
    }

    /// Removes `number`; the room closes when it empties. Nil if it was not there.
    func leave(_ callID: String, number: String) -> Signaling.GroupCall? {
        guard let room = rooms[callID], room.participants.contains(number) else { return nil }
        rooms[callID]?.participants.remove(number)
        let after = call(callID)!
        if after.participants.isEmpty { rooms[callID] = nil }
        return after
    }

    /// Removes `number` from every room (its device vanished, or it left the group `groupID`).
    func leaveAll(_ number: String, inGroup groupID: String? = nil) -> [Signaling.GroupCall] {
        let callIDs = rooms.filter { $0.value.participants.contains(number) && (groupID == nil || $0.value.group.id == groupID) }.map(\.key)
        return callIDs.sorted().compactMap { leave($0, number: number) }
    }

    /// The group `group.id` changed: its rooms announce to (and admit) its new membership.
    /// Returns those rooms, so the newly added can be rung.
    func regroup(_ group: Signaling.Group) -> [Signaling.GroupCall] {
        let callIDs = rooms.filter { $0.value.group.id == group.id }.map(\.key).sorted()
        for id in callIDs { rooms[id]?.group = group }
        return callIDs.compactMap(call)
    }

    func call(_ callID: String) -> Signaling.GroupCall? {
        rooms[callID].map {
            Signaling.GroupCall(callID: callID, group: $0.group, participants: $0.participants.sorted(), version: $0.version)
        }
    }

    /// Rooms open now (a node's load, docs/deployment.md).
    var count: Int { rooms.count }

    /// The open rooms' call ids.
    var callIDs: [String] { rooms.keys.sorted() }
}
