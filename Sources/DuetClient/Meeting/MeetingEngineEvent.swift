import DuetWire

/// What a meeting engine tells its UI (and tests). Meetings are cloud-encrypted: the events
/// say so, and none of them claims end-to-end encryption. People are `MeetingPerson`s and the
/// room on entry a `MeetingRoster`, so a screen follows a meeting without wire types.
public enum MeetingEngineEvent: Sendable, Equatable, CustomStringConvertible {
    case created(MeetingLink)
    /// Knocked; the host decides.
    case waiting(code: String)
    case admitted(code: String)
    /// Inside (made, let in at once, admitted, or back after losing the server): the meeting as
    /// it stands now. Later events change it; nothing else needs reading back.
    case entered(MeetingRoster)
    /// For the host: who waits at the door now.
    case knocking([MeetingPerson])
    case joined(MeetingPerson)
    case left(MeetingPerson)
    case recording(Bool)
    /// The leg's DTLS-SRTP handshake finished; `route`: `udp`, or `relay (tcp)` / `relay (tls)`.
    case mediaConnected(route: String)
    /// How the leg reaches the media port changed (UDP silent: over the relay).
    case leg(String)
    /// Once a second: whom this device hears, by participant.
    case hearing([MeetingHearing])
    /// Once a second: each participant whose camera is on, as their pictures show them.
    case seeing([SeeingReport])
    /// New pictures to draw, by participant id (`MeetingEngine(showsPictures:)` only).
    case pictures(GroupPictures)
    /// Something went wrong without ending the meeting.
    case notice(Notice)
    case keysWiped
    /// Out of the meeting, and why.
    case ended(MeetingEnding)

    public var description: String {
        switch self {
        case let .created(link): "meeting: \(link) (share this link; people knock and you admit them)"
        case let .waiting(code): "waiting: knocked at \(code); the host decides"
        case let .admitted(code): "admitted to \(code)"
        case let .entered(roster):
            "inside \(roster.code): " + roster.people.map { "\($0.name)\($0.id == roster.host ? " (host)" : "")" }.joined(separator: ", ")
                + (roster.recording ? "; REC" : "")
        case let .knocking(people):
            people.isEmpty ? "knocking: nobody" : "knocking: " + people.map { "\($0.name) (\($0.id))" }.joined(separator: ", ")
        case let .joined(person): "joined: \(person.name)\(person.guest ? " (guest)" : "")"
        case let .left(person): "left: \(person.name)"
        case let .recording(on): on ? "REC: this meeting is being recorded by the server" : "recording stopped"
        case let .mediaConnected(route):
            "media: DTLS-SRTP leg to the server up over \(route); cloud-encrypted: the server can access this meeting"
        case let .leg(text): "media: \(text)"
        case let .hearing(reports):
            reports.isEmpty ? "hearing: nobody else in the meeting" : "hearing: " + reports.map(\.description).joined(separator: "; ")
        case let .seeing(reports): reports.map(\.description).joined(separator: "\n")
        case let .pictures(pictures): "pictures \(pictures)"
        case let .notice(notice): notice.severity == .warning ? "warning: \(notice.text)" : notice.text
        case .keysWiped: "keys: the meeting's DTLS-SRTP keys wiped"
        case let .ended(ending): "ended: \(ending)"
        }
    }
}

/// Why a meeting ended for this device.
public enum MeetingEnding: Sendable, Equatable, CustomStringConvertible {
    /// This device left (a host leaving ends the meeting for everyone).
    case left
    /// The server closed it for this device, in the server's words: the host ended it, or did
    /// not let this device in.
    case closed(String)
    /// This device could not go on: no media leg, or no way back in after losing the server.
    case failed(String)

    /// How the history records a meeting that ended so before its leg was up: not let in, or failed.
    var outcomeUnconnected: CallRecord.Outcome {
        if case .closed = self { .declined } else { .failed }
    }

    public var description: String {
        switch self {
        case .left: "left the meeting"
        case let .closed(reason), let .failed(reason): reason
        }
    }
}

/// What this device hears of one participant over the last second.
public struct MeetingHearing: Sendable, Equatable, CustomStringConvertible {
    public let participant: MeetingPerson
    public let heard: Bool
    public let level: Double
    public let received: Int

    public var description: String {
        "\(participant.name) \(heard ? "heard" : "not heard") \(HearingReport.oneDecimal(level)) dBFS"
    }
}

/// A meeting engine's state at one moment.
public struct MeetingSnapshot: Sendable, Equatable {
    public let code: String
    public let link: MeetingLink
    public let you: String?
    public let isHost: Bool
    /// False while knocking.
    public let inside: Bool
    public let meeting: Signaling.Meeting?
    public let mediaConnected: Bool
    public let hearing: [String: MeetingHearing]
}
