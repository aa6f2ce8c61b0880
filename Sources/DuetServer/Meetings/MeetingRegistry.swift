import DuetMedia
import DuetWire

/// Who is in which meeting, who knocks, and whether it records (docs/meetings.md). Keyed
/// by the devices' identity keys, since guests have no number; the signaling layer decides
/// who may ask what and tells everyone. Nothing here awaits.
actor MeetingRegistry {
    /// A device in (or at the door of) a meeting.
    struct Member: Sendable {
        var participant: Signaling.MeetingParticipant
        let key: [UInt8]
        let fingerprint: DTLSFingerprint
        /// Which knock this is (the registry counts them), so a timer set for one knock never
        /// turns away the same device knocking again.
        var knock = 0
        var id: String { participant.id }
    }

    struct Room: Sendable {
        let code: String
        let hostKey: [UInt8]
        let open: Bool
        var recording: Bool
        var members: [Member]
        var knocking: [Member] = []

        var host: Member? { members.first { $0.key == hostKey } }

        /// The meeting as `key` sees it: only the host sees the door.
        func view(for key: [UInt8]) -> Signaling.Meeting {
            Signaling.Meeting(
                code: code, host: host?.id ?? "", open: open, participants: members.map(\.participant),
                knocking: key == hostKey ? knocking.map(\.participant) : [], recording: recording,
                you: (members + knocking).first { $0.key == key }?.id)
        }
    }

    enum Knock: Sendable {
        case admitted(Room)
        case waiting(Room)
        case unknown
    }

    /// Meetings one key may host at once: any key may make meetings, guests' included, and each
    /// holds a room, its members and their legs until its host leaves.
    static let maximumHostedMeetings = 4
    /// Meetings hosted by one key that may record at once, whoever in them asked: each recording
    /// holds a recorder in memory and grows a file until it stops.
    static let maximumRecordingsPerHost = 2

    private var rooms: [String: Room] = [:]
    private var knocks = 0

    /// Throws if `host` may not make another meeting (or another recorded one) now.
    func checkQuota(host: [UInt8], record: Bool) throws(DirectoryError) {
        let hosted = rooms.values.filter { $0.hostKey == host }
        guard hosted.count < Self.maximumHostedMeetings else {
            throw .quotaExceeded(
                "you host \(hosted.count) meetings already, the most one device may; leave one to end it before making another")
        }
        if record { try checkRecordingQuota(host: host) }
    }

    private func checkRecordingQuota(host: [UInt8]) throws(DirectoryError) {
        let recording = rooms.values.filter { $0.hostKey == host && $0.recording }.count
        guard recording < Self.maximumRecordingsPerHost else {
            throw .quotaExceeded(
                "\(recording) meetings of this host are being recorded already, the most one host may have; stop one of those recordings first"
            )
        }
    }

    /// A new meeting with its host in it, within the host's quotas.
    func create(code: String, host: Member, open: Bool, record: Bool) throws(DirectoryError) -> Room {
        try checkQuota(host: host.key, record: record)
        let room = Room(code: code, hostKey: host.key, open: open, recording: record, members: [host])
        rooms[code] = room
        return room
    }

    /// Whether a participant's voice and video SSRCs (`held` and the one after) meet those of `ssrc`.
    static func overlaps(_ held: UInt32?, _ ssrc: UInt32) -> Bool {
        guard let held else { return false }
        return held == ssrc || held &+ 1 == ssrc || ssrc &+ 1 == held
    }

    /// Comes in at once (open meeting, or its host coming back) or waits at the door. A device
    /// already in or knocking is replaced (it reconnected: the same key). An id another key holds
    /// in the room or at its door is refused, never taken over: nobody is evicted by someone
    /// who shares their id. An SSRC someone else in the room (or at its door) announced is
    /// refused: everyone is told whose stream is whose by SSRC, so a second announcement of one
    /// would let a participant speak as another. So is one next to it: a camera sends on the
    /// SSRC after the voice's, and an announcement of someone's video SSRC would black it out.
    func knock(_ code: String, member: Member) throws(DirectoryError) -> Knock {
        guard var room = rooms[code] else { return .unknown }
        if (room.members + room.knocking).contains(where: { $0.id == member.id && $0.key != member.key }) {
            throw .notPermitted("someone else in this meeting goes by \(member.id); it stays theirs")
        }
        room.members.removeAll { $0.key == member.key }
        room.knocking.removeAll { $0.key == member.key }
        if let ssrc = member.participant.ssrc, (room.members + room.knocking).contains(where: { Self.overlaps($0.participant.ssrc, ssrc) })
        {
            throw .notPermitted("that SSRC is another participant's in this meeting; join again with a new random one")
        }
        if room.open || member.key == room.hostKey {
            room.members.append(member)
            rooms[code] = room
            return .admitted(room)
        }
        knocks += 1
        var knocker = member
        knocker.knock = knocks
        room.knocking.append(knocker)
        rooms[code] = room
        return .waiting(room)
    }

    /// Turns away `key`'s knock at `code` if it still waits since the knock numbered `knock`:
    /// the room as it is now, and who was turned away; nil if the host answered meanwhile, the
    /// device knocked again or left, or the meeting ended.
    func expireKnock(_ code: String, key: [UInt8], knock: Int) -> (Room, Member)? {
        guard var room = rooms[code], let index = room.knocking.firstIndex(where: { $0.key == key && $0.knock == knock }) else {
            return nil
        }
        let member = room.knocking.remove(at: index)
        rooms[code] = room
        return (room, member)
    }

    /// The host lets `participant` in (returning them) or not (returning them too, now gone).
    func decide(_ code: String, by key: [UInt8], participant: String, admit: Bool) throws(DirectoryError) -> (Room, Member) {
        guard var room = rooms[code], room.hostKey == key else {
            throw .unknownMeeting("only the host of meeting \(code) may admit or deny")
        }
        guard let index = room.knocking.firstIndex(where: { $0.id == participant }) else {
            throw .unknownMeeting("nobody called \(participant) is knocking at \(code)")
        }
        let member = room.knocking.remove(at: index)
        if admit { room.members.append(member) }
        rooms[code] = room
        return (room, member)
    }

    /// Starts or stops the recording; any participant may, within the host's recording quota.
    func record(_ code: String, by key: [UInt8], on: Bool) throws(DirectoryError) -> Room {
        guard var room = rooms[code], room.members.contains(where: { $0.key == key }) else {
            throw .unknownMeeting("you are not in meeting \(code)")
        }
        if on && !room.recording { try checkRecordingQuota(host: room.hostKey) }
        room.recording = on
        rooms[code] = room
        return room
    }

    /// The server stopped the recording itself (it could not write it); nil if the meeting is gone.
    func recordingStopped(_ code: String) -> Room? {
        rooms[code]?.recording = false
        return rooms[code]
    }

    /// What a departure did to a meeting.
    enum Departure: Sendable {
        /// Someone left (or stopped knocking); the meeting goes on.
        case left(Room, Member, wasKnocking: Bool)
        /// The host left: the meeting is over for everyone in it and at its door.
        case ended(Room)
    }

    /// `key` leaves `code` (or stops knocking).
    func leave(_ code: String, key: [UInt8]) -> Departure? {
        guard var room = rooms[code] else { return nil }
        if key == room.hostKey, room.members.contains(where: { $0.key == key }) {
            rooms[code] = nil
            return .ended(room)
        }
        if let index = room.members.firstIndex(where: { $0.key == key }) {
            let member = room.members.remove(at: index)
            rooms[code] = room
            return .left(room, member, wasKnocking: false)
        }
        if let index = room.knocking.firstIndex(where: { $0.key == key }) {
            let member = room.knocking.remove(at: index)
            rooms[code] = room
            return .left(room, member, wasKnocking: true)
        }
        return nil
    }

    /// Every meeting `key` is in or knocking at (its connection closed).
    func codes(of key: [UInt8]) -> [String] {
        rooms.values.filter { room in (room.members + room.knocking).contains { $0.key == key } }.map(\.code).sorted()
    }

    func room(_ code: String) -> Room? { rooms[code] }

    /// Rooms open now (a node's load, docs/deployment.md).
    var count: Int { rooms.count }

    /// The open meetings' codes.
    var openCodes: [String] { rooms.keys.sorted() }
}
