/// The group-call rooms held by other nodes that this node's devices are in (docs/deployment.md
/// "Rooms"): when the node holding one is gone, the devices here are told the room is lost, and
/// entering the call again places it on a live node. Only requests this node forwarded change it.
actor RemoteRooms {
    private struct Room {
        var holder: String
        var members: Set<String>
    }

    private var rooms: [String: Room] = [:]

    /// Meetings held elsewhere, by code: their holder and the keys here that are in them.
    private struct Meeting {
        var holder: String
        var keys: Set<[UInt8]>
    }

    private var meetings: [String: Meeting] = [:]

    /// Meeting `code`, held by node `holder`, as the holder answered a request of `key`'s.
    func update(meeting code: String, holder: String, key: [UInt8], isIn: Bool) {
        var meeting = meetings[code] ?? Meeting(holder: holder, keys: [])
        meeting.holder = holder
        if isIn { meeting.keys.insert(key) } else { meeting.keys.remove(key) }
        meetings[code] = meeting.keys.isEmpty ? nil : meeting
    }

    /// The device authenticated as `key` left every meeting.
    func drop(key: [UInt8]) {
        for code in meetings.keys {
            meetings[code]?.keys.remove(key)
            if meetings[code]?.keys.isEmpty == true { meetings[code] = nil }
        }
    }

    /// The meetings whose holder is not among `live`, forgotten here: each code and whom to tell.
    func lostMeetings(keeping live: Set<String>) -> [(code: String, keys: Set<[UInt8]>)] {
        let gone = meetings.filter { !live.contains($0.value.holder) }
        for code in gone.keys { meetings[code] = nil }
        return gone.map { ($0.key, $0.value.keys) }.sorted { $0.code < $1.code }
    }

    /// Room `callID`, held by node `holder`, as the holder answered a request of `number`'s.
    /// Returns the other members recorded under a former holder: the room moved (its old node
    /// died and someone entered again elsewhere), so theirs is gone.
    @discardableResult
    func update(_ call: String, holder: String, number: String, isIn: Bool) -> Set<String> {
        var room = rooms[call] ?? Room(holder: holder, members: [])
        var moved: Set<String> = []
        if room.holder != holder {
            moved = room.members.subtracting([number])
            room = Room(holder: holder, members: [])
        }
        if isIn { room.members.insert(number) } else { room.members.remove(number) }
        rooms[call] = room.members.isEmpty ? nil : room
        return moved
    }

    /// `number` is in no room any more (its device went offline, or left group rooms).
    func drop(_ number: String) {
        for call in rooms.keys {
            rooms[call]?.members.remove(number)
            if rooms[call]?.members.isEmpty == true { rooms[call] = nil }
        }
    }

    /// The rooms whose holder is not among `live`, forgotten here: each call and who to tell.
    func lost(keeping live: Set<String>) -> [(callID: String, members: Set<String>)] {
        let gone = rooms.filter { !live.contains($0.value.holder) }
        for call in gone.keys { rooms[call] = nil }
        return gone.map { ($0.key, $0.value.members) }.sorted { $0.callID < $1.callID }
    }
}
