/// What the server sends a device: replies (carrying the request's id) and events (no id).
public enum ServerMessage: Hashable, Sendable {
    case challenge(Signaling.Challenge)
    case authenticated(Signaling.Authenticated)
    case registered(Signaling.Registered)
    case prekeyCount(Signaling.PrekeyCount)
    case bundle(Signaling.Bundle)
    /// The reply to `fetchBundles`: the bundles of the numbers that are registered.
    case bundles(Signaling.BundleList)
    case lookupResult(Signaling.LookupResult)
    case presenceList(Signaling.PresenceList)
    case presence(Signaling.Presence)
    case keyChanged(Signaling.KeyChanged)
    case prekeysLow(Signaling.PrekeysLow)
    case error(Signaling.ErrorReply)
    case pong
    /// The reply to `callSignal`: the signal was handed to the callee's connection.
    case callSignalSent
    /// The reply to `callSignals`: who was refused (everyone else has it queued).
    case callSignalsSent(Signaling.CallSignalBatchResult)
    /// An event: a call signal from another device.
    case callSignal(Signaling.CallSignal)
    case relayCredentials(Signaling.RelayCredentials)
    /// The reply to createGroup / addGroupMember / removeGroupMember.
    case group(Signaling.Group)
    case groupList(Signaling.GroupList)
    /// An event: a group this device is (or was) in changed members.
    case groupChanged(Signaling.GroupChanged)
    /// The reply to start/join/leave: the room as it is now.
    case groupCall(Signaling.GroupCall)
    /// An event: a group call started (the ring) or its room changed.
    case groupCallChanged(Signaling.GroupCallChanged)
    /// An event: the room of a call this device is in is gone with the server node that held
    /// it; entering the call again places it on a live node.
    case groupCallLost(Signaling.GroupCallLost)
    /// An event: the server's other nodes this device may reconnect to changed (a node started,
    /// stopped or was drained); the list replaces the one the login gave.
    case nodes(Signaling.Nodes)
    /// The reply to `leaveNotice`: kept for the recipient.
    case noticeLeft
    /// The reply to `takeNotices` and `forgetNotices`: the sealed notices waiting for this device.
    case notices(Signaling.Notices)
    /// The reply to create/join (when in at once)/admit/record: the meeting as it is now.
    case meeting(Signaling.Meeting)
    /// The reply to a join that waits for the host (and to a leave).
    case meetingWaiting(Signaling.MeetingCode)
    /// Events: the meeting changed; a knock was let in; this device is out of a meeting.
    case meetingChanged(Signaling.MeetingChanged)
    case meetingAdmitted(Signaling.Meeting)
    case meetingClosed(Signaling.MeetingClosed)

    public var type: String {
        switch self {
        case .challenge: "challenge"
        case .authenticated: "authenticated"
        case .registered: "registered"
        case .prekeyCount: "prekeyCount"
        case .bundle: "bundle"
        case .bundles: "bundles"
        case .lookupResult: "lookupResult"
        case .presenceList: "presenceList"
        case .presence: "presence"
        case .keyChanged: "keyChanged"
        case .prekeysLow: "prekeysLow"
        case .error: "error"
        case .pong: "pong"
        case .callSignalSent: "callSignalSent"
        case .callSignalsSent: "callSignalsSent"
        case .callSignal: "callSignal"
        case .relayCredentials: "relayCredentials"
        case .group: "group"
        case .groupList: "groupList"
        case .groupChanged: "groupChanged"
        case .groupCall: "groupCall"
        case .groupCallChanged: "groupCallChanged"
        case .groupCallLost: "groupCallLost"
        case .nodes: "nodes"
        case .noticeLeft: "noticeLeft"
        case .notices: "notices"
        case .meeting: "meeting"
        case .meetingWaiting: "meetingWaiting"
        case .meetingChanged: "meetingChanged"
        case .meetingAdmitted: "meetingAdmitted"
        case .meetingClosed: "meetingClosed"
        }
    }
}

/// A server message; `id` is the request it answers, nil for events and the challenge.
public struct ServerFrame: Hashable, Sendable {
    public var id: UInt32?
    public var message: ServerMessage
    public init(id: UInt32?, message: ServerMessage) {
        self.id = id
        self.message = message
    }
}

extension SignalingCodec {
    public static func encode(_ frame: ServerFrame) -> [UInt8] {
        let t = frame.message.type
        switch frame.message {
        case let .challenge(p): return encode(type: t, id: frame.id, payload: p)
        case let .authenticated(p): return encode(type: t, id: frame.id, payload: p)
        case let .registered(p): return encode(type: t, id: frame.id, payload: p)
        case let .prekeyCount(p): return encode(type: t, id: frame.id, payload: p)
        case let .bundle(p): return encode(type: t, id: frame.id, payload: p)
        case let .bundles(p): return encode(type: t, id: frame.id, payload: p)
        case let .lookupResult(p): return encode(type: t, id: frame.id, payload: p)
        case let .presenceList(p): return encode(type: t, id: frame.id, payload: p)
        case let .presence(p): return encode(type: t, id: frame.id, payload: p)
        case let .keyChanged(p): return encode(type: t, id: frame.id, payload: p)
        case let .prekeysLow(p): return encode(type: t, id: frame.id, payload: p)
        case let .error(p): return encode(type: t, id: frame.id, payload: p)
        case .pong: return encode(type: t, id: frame.id, payload: Empty())
        case .callSignalSent: return encode(type: t, id: frame.id, payload: Empty())
        case let .callSignalsSent(p): return encode(type: t, id: frame.id, payload: p)
        case let .callSignal(p): return encode(type: t, id: frame.id, payload: p)
        case let .relayCredentials(p): return encode(type: t, id: frame.id, payload: p)
        case let .group(p): return encode(type: t, id: frame.id, payload: p)
        case let .groupList(p): return encode(type: t, id: frame.id, payload: p)
        case let .groupChanged(p): return encode(type: t, id: frame.id, payload: p)
        case let .groupCall(p): return encode(type: t, id: frame.id, payload: p)
        case let .groupCallChanged(p): return encode(type: t, id: frame.id, payload: p)
        case let .groupCallLost(p): return encode(type: t, id: frame.id, payload: p)
        case let .nodes(p): return encode(type: t, id: frame.id, payload: p)
        case .noticeLeft: return encode(type: t, id: frame.id, payload: Empty())
        case let .notices(p): return encode(type: t, id: frame.id, payload: p)
        case let .meeting(p), let .meetingAdmitted(p): return encode(type: t, id: frame.id, payload: p)
        case let .meetingWaiting(p): return encode(type: t, id: frame.id, payload: p)
        case let .meetingChanged(p): return encode(type: t, id: frame.id, payload: p)
        case let .meetingClosed(p): return encode(type: t, id: frame.id, payload: p)
        }
    }

    public static func decodeServerFrame(_ body: [UInt8]) throws(SignalingDecodingError) -> ServerFrame {
        let (type, id) = try probe(body)
        let message: ServerMessage =
            switch type {
            case "challenge": .challenge(try payload(body, type))
            case "authenticated": .authenticated(try payload(body, type))
            case "registered": .registered(try payload(body, type))
            case "prekeyCount": .prekeyCount(try payload(body, type))
            case "bundle": .bundle(try payload(body, type))
            case "bundles": .bundles(try payload(body, type))
            case "lookupResult": .lookupResult(try payload(body, type))
            case "presenceList": .presenceList(try payload(body, type))
            case "presence": .presence(try payload(body, type))
            case "keyChanged": .keyChanged(try payload(body, type))
            case "prekeysLow": .prekeysLow(try payload(body, type))
            case "error": .error(try payload(body, type))
            case "pong": .pong
            case "callSignalSent": .callSignalSent
            case "callSignalsSent": .callSignalsSent(try payload(body, type))
            case "callSignal": .callSignal(try payload(body, type))
            case "relayCredentials": .relayCredentials(try payload(body, type))
            case "group": .group(try payload(body, type))
            case "groupList": .groupList(try payload(body, type))
            case "groupChanged": .groupChanged(try payload(body, type))
            case "groupCall": .groupCall(try payload(body, type))
            case "groupCallChanged": .groupCallChanged(try payload(body, type))
            case "groupCallLost": .groupCallLost(try payload(body, type))
            case "nodes": .nodes(try payload(body, type))
            case "noticeLeft": .noticeLeft
            case "notices": .notices(try payload(body, type))
            case "meeting": .meeting(try payload(body, type))
            case "meetingWaiting": .meetingWaiting(try payload(body, type))
            case "meetingChanged": .meetingChanged(try payload(body, type))
            case "meetingAdmitted": .meetingAdmitted(try payload(body, type))
            case "meetingClosed": .meetingClosed(try payload(body, type))
            default: throw .unknownType(type, id: id)
            }
        return ServerFrame(id: id, message: message)
    }
}
