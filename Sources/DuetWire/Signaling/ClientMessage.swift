/// What a device sends the server. Each request carries an `id` the reply echoes, so a
/// client may have several requests in flight on one connection.
public enum ClientMessage: Hashable, Sendable {
    case authenticate(Signaling.Authenticate)
    case register(Signaling.Register)
    case uploadPrekeys(Signaling.UploadPrekeys)
    case fetchBundle(Signaling.NumberQuery)
    /// Several numbers' bundles in one request (reply `bundles`): a group call member opens a
    /// channel to every other member at once, and the server hands the one-time prekeys out in
    /// one transaction instead of one each (at most `Signaling.maximumGroupMembers` numbers).
    case fetchBundles(Signaling.NumberList)
    case lookup(Signaling.NumberQuery)
    /// Start watching numbers: presence events now, and keyChanged notices for good.
    case watch(Signaling.NumberList)
    case unwatch(Signaling.NumberList)
    case ping
    /// Forward an opaque call signal to a number's device (reply `callSignalSent`).
    case callSignal(Signaling.CallSignalRequest)
    /// The same kind of call signal to several numbers (reply `callSignalsSent`).
    case callSignals(Signaling.CallSignalBatch)
    /// Relay credentials for one call (reply `relayCredentials`).
    case relayCredentials(Signaling.RelayCredentialsRequest)
    /// Make a group (reply `group`).
    case createGroup(Signaling.CreateGroup)
    case addGroupMember(Signaling.GroupMemberChange)
    case removeGroupMember(Signaling.GroupMemberChange)
    /// The groups this device's number is in (reply `groupList`).
    case listGroups
    /// Start a group call and join it (reply `groupCall`); the members are rung.
    case startGroupCall(Signaling.StartGroupCall)
    case joinGroupCall(Signaling.GroupCallRequest)
    case leaveGroupCall(Signaling.GroupCallRequest)
    /// Meetings: any authenticated device, registered or not (a guest), may create or knock.
    case createMeeting(Signaling.CreateMeeting)
    case joinMeeting(Signaling.JoinMeeting)
    case leaveMeeting(Signaling.MeetingCode)
    case admitToMeeting(Signaling.AdmitToMeeting)
    case recordMeeting(Signaling.RecordMeeting)
    /// Keep a sealed notice for a number whose device is away (a missed call, docs/history.md).
    case leaveNotice(Signaling.LeaveNotice)
    /// The sealed notices waiting for this device; they stay until `forgetNotices`.
    case takeNotices
    /// This device has kept these notices: the server forgets them.
    case forgetNotices(Signaling.NoticeIDs)

    /// The JSON `type` discriminator.
    public var type: String {
        switch self {
        case .authenticate: "authenticate"
        case .register: "register"
        case .uploadPrekeys: "uploadPrekeys"
        case .fetchBundle: "fetchBundle"
        case .fetchBundles: "fetchBundles"
        case .lookup: "lookup"
        case .watch: "watch"
        case .unwatch: "unwatch"
        case .ping: "ping"
        case .callSignal: "callSignal"
        case .callSignals: "callSignals"
        case .relayCredentials: "relayCredentials"
        case .createGroup: "createGroup"
        case .addGroupMember: "addGroupMember"
        case .removeGroupMember: "removeGroupMember"
        case .listGroups: "listGroups"
        case .startGroupCall: "startGroupCall"
        case .joinGroupCall: "joinGroupCall"
        case .leaveGroupCall: "leaveGroupCall"
        case .createMeeting: "createMeeting"
        case .joinMeeting: "joinMeeting"
        case .leaveMeeting: "leaveMeeting"
        case .admitToMeeting: "admitToMeeting"
        case .recordMeeting: "recordMeeting"
        case .leaveNotice: "leaveNotice"
        case .takeNotices: "takeNotices"
        case .forgetNotices: "forgetNotices"
        }
    }
}

/// A client message and the request id its reply will carry.
public struct ClientRequest: Hashable, Sendable {
    public var id: UInt32?
    public var message: ClientMessage
    public init(id: UInt32?, message: ClientMessage) {
        self.id = id
        self.message = message
    }
}

extension SignalingCodec {
    public static func encode(_ request: ClientRequest) -> [UInt8] {
        switch request.message {
        case let .authenticate(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .register(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .uploadPrekeys(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .fetchBundle(p), let .lookup(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .fetchBundles(p), let .watch(p), let .unwatch(p): encode(type: request.message.type, id: request.id, payload: p)
        case .ping: encode(type: request.message.type, id: request.id, payload: Empty())
        case let .callSignal(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .callSignals(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .relayCredentials(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .createGroup(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .addGroupMember(p), let .removeGroupMember(p): encode(type: request.message.type, id: request.id, payload: p)
        case .listGroups: encode(type: request.message.type, id: request.id, payload: Empty())
        case let .startGroupCall(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .joinGroupCall(p), let .leaveGroupCall(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .createMeeting(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .joinMeeting(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .leaveMeeting(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .admitToMeeting(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .recordMeeting(p): encode(type: request.message.type, id: request.id, payload: p)
        case let .leaveNotice(p): encode(type: request.message.type, id: request.id, payload: p)
        case .takeNotices: encode(type: request.message.type, id: request.id, payload: Empty())
        case let .forgetNotices(p): encode(type: request.message.type, id: request.id, payload: p)
        }
    }

    public static func decodeClientRequest(_ body: [UInt8]) throws(SignalingDecodingError) -> ClientRequest {
        let (type, id) = try probe(body)
        let message: ClientMessage =
            switch type {
            case "authenticate": .authenticate(try payload(body, type))
            case "register": .register(try payload(body, type))
            case "uploadPrekeys": .uploadPrekeys(try payload(body, type))
            case "fetchBundle": .fetchBundle(try payload(body, type))
            case "fetchBundles": .fetchBundles(try payload(body, type))
            case "lookup": .lookup(try payload(body, type))
            case "watch": .watch(try payload(body, type))
            case "unwatch": .unwatch(try payload(body, type))
            case "ping": .ping
            case "callSignal": .callSignal(try payload(body, type))
            case "callSignals": .callSignals(try payload(body, type))
            case "relayCredentials": .relayCredentials(try payload(body, type))
            case "createGroup": .createGroup(try payload(body, type))
            case "addGroupMember": .addGroupMember(try payload(body, type))
            case "removeGroupMember": .removeGroupMember(try payload(body, type))
            case "listGroups": .listGroups
            case "startGroupCall": .startGroupCall(try payload(body, type))
            case "joinGroupCall": .joinGroupCall(try payload(body, type))
            case "leaveGroupCall": .leaveGroupCall(try payload(body, type))
            case "createMeeting": .createMeeting(try payload(body, type))
            case "joinMeeting": .joinMeeting(try payload(body, type))
            case "leaveMeeting": .leaveMeeting(try payload(body, type))
            case "admitToMeeting": .admitToMeeting(try payload(body, type))
            case "recordMeeting": .recordMeeting(try payload(body, type))
            case "leaveNotice": .leaveNotice(try payload(body, type))
            case "takeNotices": .takeNotices
            case "forgetNotices": .forgetNotices(try payload(body, type))
            default: throw .unknownType(type, id: id)
            }
        return ClientRequest(id: id, message: message)
    }
}
