/// The bodies of meeting messages (docs/meetings.md). Meetings are cloud-encrypted: media
/// runs on DTLS-SRTP legs to the server, which decrypts, forwards and may record it. Anyone
/// with the link may knock — a registered device or a guest under a display name — and the
/// host admits or denies them unless the meeting is open. Nothing here is secret but the code.
extension Signaling {
    /// One person in (or knocking at) a meeting.
    public struct MeetingParticipant: Codable, Hashable, Sendable {
        /// The number of a registered device, or "guest-" and 8 hex digits of its key's fingerprint.
        public var id: String
        /// What others see: the device's number or display name, or the guest's chosen name.
        public var name: String
        public var guest: Bool
        /// The SSRC this participant's audio carries, so listeners can tell voices apart.
        public var ssrc: UInt32?
        public init(id: String, name: String, guest: Bool, ssrc: UInt32? = nil) {
            self.id = id
            self.name = name
            self.guest = guest
            self.ssrc = ssrc
        }
    }

    /// A meeting as the server tells it to one participant.
    public struct Meeting: Codable, Hashable, Sendable {
        /// `abc-defg-hij`: 10 random lowercase letters.
        public var code: String
        /// The host's participant id.
        public var host: String
        public var open: Bool
        /// In order of admission.
        public var participants: [MeetingParticipant]
        /// Who waits at the door (told to the host only; empty for everyone else).
        public var knocking: [MeetingParticipant]
        public var recording: Bool
        /// In replies: where the media leg goes and the fingerprint its certificate has.
        public var media: String?
        public var mediaFingerprint: String?
        /// In replies: the receiver's own participant id.
        public var you: String?
        public init(
            code: String, host: String, open: Bool, participants: [MeetingParticipant], knocking: [MeetingParticipant] = [],
            recording: Bool, media: String? = nil, mediaFingerprint: String? = nil, you: String? = nil
        ) {
            self.code = code
            self.host = host
            self.open = open
            self.participants = participants
            self.knocking = knocking
            self.recording = recording
            self.media = media
            self.mediaFingerprint = mediaFingerprint
            self.you = you
        }
    }

    /// C→S: make a meeting and join it as its host; reply `meeting`.
    public struct CreateMeeting: Codable, Hashable, Sendable {
        public var open: Bool
        public var record: Bool
        /// A display name; a registered device defaults to its number.
        public var name: String?
        /// The fingerprint of the certificate this device shows in its DTLS-SRTP handshake.
        public var dtlsFingerprint: String
        public var ssrc: UInt32
        public init(open: Bool, record: Bool, name: String? = nil, dtlsFingerprint: String, ssrc: UInt32) {
            self.open = open
            self.record = record
            self.name = name
            self.dtlsFingerprint = dtlsFingerprint
            self.ssrc = ssrc
        }
    }

    /// C→S: knock at (or, if it is open, enter) the meeting `code`. Reply `meeting` when in at
    /// once, else `meetingWaiting`; then `meetingAdmitted` or `meetingClosed` later.
    public struct JoinMeeting: Codable, Hashable, Sendable {
        public var code: String
        public var name: String?
        public var dtlsFingerprint: String
        public var ssrc: UInt32
        public init(code: String, name: String? = nil, dtlsFingerprint: String, ssrc: UInt32) {
            self.code = code
            self.name = name
            self.dtlsFingerprint = dtlsFingerprint
            self.ssrc = ssrc
        }
    }

    /// C→S: leave `code` (reply `meetingWaiting` echoing it); S→C: "you are waiting at `code`".
    public struct MeetingCode: Codable, Hashable, Sendable {
        public var code: String
        public init(code: String) { self.code = code }
    }

    /// C→S, host only: let `participant` in, or not; reply `meeting`.
    public struct AdmitToMeeting: Codable, Hashable, Sendable {
        public var code: String
        public var participant: String
        public var admit: Bool
        public init(code: String, participant: String, admit: Bool) {
            self.code = code
            self.participant = participant
            self.admit = admit
        }
    }

    /// C→S, any participant: start or stop the recording; reply `meeting`.
    public struct RecordMeeting: Codable, Hashable, Sendable {
        public var code: String
        public var on: Bool
        public init(code: String, on: Bool) {
            self.code = code
            self.on = on
        }
    }

    /// S→C event: the meeting changed (who is in, who knocks, whether it records).
    public struct MeetingChanged: Codable, Hashable, Sendable {
        public var meeting: Meeting
        public var joined: [String]
        public var left: [String]
        /// Something the server itself did, said to everyone in words (e.g. the recording
        /// stopped because its disk filled); absent for changes people made.
        public var notice: String?
        public init(meeting: Meeting, joined: [String], left: [String], notice: String? = nil) {
            self.meeting = meeting
            self.joined = joined
            self.left = left
            self.notice = notice
        }
    }

    /// S→C event: this device is out of the meeting `code` (not admitted, or it ended) — `reason` says which.
    public struct MeetingClosed: Codable, Hashable, Sendable {
        public var code: String
        public var reason: String
        public init(code: String, reason: String) {
            self.code = code
            self.reason = reason
        }
    }
}
