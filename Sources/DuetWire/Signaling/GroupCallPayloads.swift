/// The bodies of group-call messages (docs/group-calls.md): the server keeps a room per group
/// call — who is in it — rings the group's other members, and admits only members. Sender
/// keys travel elsewhere; these messages carry no secrets. For the media leg to the SFU a
/// device announces its DTLS certificate's fingerprint (public: it names, not unlocks, the
/// device's certificate) and learns the media port and the server's fingerprint. The media
/// fields are optional so messages from before the SFU still decode.
extension Signaling {
    /// C→S: start a call in `group` (a group id) and join it; reply `groupCall`.
    public struct StartGroupCall: Codable, Hashable, Sendable {
        public var group: String
        public var callID: String
        /// The SHA-256 fingerprint ("AB:CD:…") of the certificate this device will show in its
        /// DTLS-SRTP handshake with the media port; the server admits that handshake to the room.
        public var dtlsFingerprint: String?
        public init(group: String, callID: String, dtlsFingerprint: String? = nil) {
            self.group = group
            self.callID = callID
            self.dtlsFingerprint = dtlsFingerprint
        }
    }

    /// C→S: join, or leave, the group call `callID`; reply `groupCall`.
    public struct GroupCallRequest: Codable, Hashable, Sendable {
        public var callID: String
        /// On a join, as in `StartGroupCall`; ignored on a leave.
        public var dtlsFingerprint: String?
        public init(callID: String, dtlsFingerprint: String? = nil) {
            self.callID = callID
            self.dtlsFingerprint = dtlsFingerprint
        }
    }

    /// S→C: a group call's room: its group, who is in it now, and who was rung.
    public struct GroupCall: Codable, Hashable, Sendable {
        public var callID: String
        public var group: Group
        /// Sorted.
        public var participants: [String]
        /// In the reply to a start or join: the media port ("HOST:PORT") to run the DTLS-SRTP
        /// handshake with, and the fingerprint ("AB:CD:…") its certificate must have. Absent in
        /// events.
        public var media: String?
        public var mediaFingerprint: String?
        /// Counts the room's changes: announcements of concurrent joins can arrive out of
        /// order, and a device keeps the participants of the highest version it has seen.
        public var version: UInt64?
        public init(
            callID: String, group: Group, participants: [String], media: String? = nil, mediaFingerprint: String? = nil,
            version: UInt64? = nil
        ) {
            self.callID = callID
            self.group = group
            self.participants = participants
            self.media = media
            self.mediaFingerprint = mediaFingerprint
            self.version = version
        }
    }

    /// S→C event: the server node holding `callID`'s room is gone (docs/deployment.md "Rooms").
    public struct GroupCallLost: Codable, Hashable, Sendable {
        public var callID: String
        public init(callID: String) { self.callID = callID }
    }

    /// S→C event: someone started a call in one of your groups (the ring), or the room
    /// changed — `joined` and `left` say how. `left` includes devices that vanished.
    public struct GroupCallChanged: Codable, Hashable, Sendable {
        public var call: GroupCall
        public var joined: [String]
        public var left: [String]
        public init(call: GroupCall, joined: [String], left: [String]) {
            self.call = call
            self.joined = joined
            self.left = left
        }
    }
}
