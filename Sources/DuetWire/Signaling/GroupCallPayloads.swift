/// The bodies of group-call messages (DESIGN §5 "Group"): the server keeps a room per group
/// call — who is in it — rings the group's other members, and admits only members. Media
/// (the SFU) and sender keys travel elsewhere; these messages carry no secrets.
extension Signaling {
    /// C→S: start a call in `group` (a group id) and join it; reply `groupCall`.
    public struct StartGroupCall: Codable, Hashable, Sendable {
        public var group: String
        public var callID: String
        public init(group: String, callID: String) { self.group = group; self.callID = callID }
    }

    /// C→S: join, or leave, the group call `callID`; reply `groupCall`.
    public struct GroupCallRequest: Codable, Hashable, Sendable {
        public var callID: String
        public init(callID: String) { self.callID = callID }
    }

    /// S→C: a group call's room: its group, who is in it now, and who was rung.
    public struct GroupCall: Codable, Hashable, Sendable {
        public var callID: String
        public var group: Group
        /// Sorted.
        public var participants: [String]
        public init(callID: String, group: Group, participants: [String]) {
            self.callID = callID; self.group = group; self.participants = participants
        }
    }

    /// S→C event: someone started a call in one of your groups (the ring), or the room
    /// changed — `joined` and `left` say how. `left` includes devices that vanished.
    public struct GroupCallChanged: Codable, Hashable, Sendable {
        public var call: GroupCall
        public var joined: [String]
        public var left: [String]
        public init(call: GroupCall, joined: [String], left: [String]) {
            self.call = call; self.joined = joined; self.left = left
        }
    }
}
