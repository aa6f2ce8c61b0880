import DuetWire

/// What a logged-in device may ask, each kind routed to the service that answers it. The
/// connection maps a `ClientMessage` into this once (`route`), so that every service switches
/// over its own requests only, with no case it cannot serve.
enum SignalingRequest {
    case register(Signaling.Register)
    case uploadPrekeys(Signaling.UploadPrekeys)
    case fetchBundle(Signaling.NumberQuery)
    case fetchBundles(Signaling.NumberList)
    case lookup(Signaling.NumberQuery)
    case watch(Signaling.NumberList)
    case unwatch(Signaling.NumberList)
    case ping
    case callSignal(Signaling.CallSignalRequest)
    case callSignals(Signaling.CallSignalBatch)
    case relayCredentials(Signaling.RelayCredentialsRequest)
    case group(GroupSignaling.Request)
    case groupCall(GroupCallSignaling.Request)
    case meeting(MeetingSignaling.Request)
    case notice(NoticeSignaling.Request)

    /// A client message is either the answer to the login challenge or a request.
    enum Routed {
        case authenticate(Signaling.Authenticate)
        case request(SignalingRequest)
    }

    static func route(_ message: ClientMessage) -> Routed {
        switch message {
        case let .authenticate(auth): .authenticate(auth)
        case let .register(request): .request(.register(request))
        case let .uploadPrekeys(request): .request(.uploadPrekeys(request))
        case let .fetchBundle(query): .request(.fetchBundle(query))
        case let .fetchBundles(list): .request(.fetchBundles(list))
        case let .lookup(query): .request(.lookup(query))
        case let .watch(list): .request(.watch(list))
        case let .unwatch(list): .request(.unwatch(list))
        case .ping: .request(.ping)
        case let .callSignal(request): .request(.callSignal(request))
        case let .callSignals(batch): .request(.callSignals(batch))
        case let .relayCredentials(request): .request(.relayCredentials(request))
        case let .createGroup(request): .request(.group(.create(request)))
        case let .addGroupMember(change): .request(.group(.addMember(change)))
        case let .removeGroupMember(change): .request(.group(.removeMember(change)))
        case .listGroups: .request(.group(.list))
        case let .startGroupCall(request): .request(.groupCall(.start(request)))
        case let .joinGroupCall(request): .request(.groupCall(.join(request)))
        case let .leaveGroupCall(request): .request(.groupCall(.leave(request)))
        case let .createMeeting(request): .request(.meeting(.create(request)))
        case let .joinMeeting(request): .request(.meeting(.join(request)))
        case let .leaveMeeting(request): .request(.meeting(.leave(request)))
        case let .admitToMeeting(request): .request(.meeting(.admit(request)))
        case let .recordMeeting(request): .request(.meeting(.record(request)))
        case let .leaveNotice(request): .request(.notice(.leave(request)))
        case .takeNotices: .request(.notice(.take))
        case let .forgetNotices(list): .request(.notice(.forget(list)))
        }
    }
}
