import DuetMedia
import DuetWire

/// A group as the server holds it (docs/group-calls.md): its id, name, owner and members, and
/// the signed vouches that say who added whom (`GroupVouches` checks them; the server's word
/// alone puts nobody in reach of a sender key).
public struct GroupInfo: Sendable, Equatable, CustomStringConvertible {
    public let id: String
    public let name: String
    public let owner: String
    public let members: [String]
    public let founding: Signaling.GroupFounding?
    public let vouches: [String: Signaling.MemberVouch]

    public init(
        id: String, name: String, owner: String, members: [String], founding: Signaling.GroupFounding? = nil,
        vouches: [String: Signaling.MemberVouch] = [:]
    ) {
        self.id = id
        self.name = name
        self.owner = owner
        self.members = members
        self.founding = founding
        self.vouches = vouches
    }

    init(_ wire: Signaling.Group) {
        self.init(
            id: wire.id, name: wire.name, owner: wire.owner, members: wire.members, founding: wire.founding, vouches: wire.vouches ?? [:])
    }

    public var description: String { "\(name) (\(id)): \(members.joined(separator: " "))" }
}

/// A change of a group's members, as every member is told.
public struct GroupChange: Sendable, Equatable {
    public let group: GroupInfo
    public let added: [String]
    public let removed: [String]
    /// The number that made the change.
    public let by: String

    public init(group: GroupInfo, added: [String], removed: [String], by: String) {
        self.group = group
        self.added = added
        self.removed = removed
        self.by = by
    }

    init(_ wire: Signaling.GroupChanged) {
        group = GroupInfo(wire.group)
        added = wire.added
        removed = wire.removed
        by = wire.by
    }
}

/// Group membership requests. Errors: `.server(code: .unknownGroup, …)` for a group this
/// device is not in, `.notPermitted` for removing someone else from a group you do not own,
/// `.unknownNumber`, `.invalidGroup` (name, size).
extension ServerConnection {
    /// Makes a group this device founds, vouching for each member under the identity key the
    /// server gives for their number now (the keys members will be given sender keys under).
    public func createGroup(name: String, members: [String]) async throws(ServerConnectionError) -> GroupInfo {
        var request = Signaling.CreateGroup(name: name, members: members)
        // A request the server refuses anyway (a bad name, too many members) is sent as it is, so
        // its reason is the server's and no number is looked up for nothing.
        if let me = registeredNumber, Signaling.isValidGroupName(name), Set(members + [me]).count <= Signaling.maximumGroupMembers {
            let founding = GroupVouches.founding(founder: me, key: identity.publicKey)
            let own = GroupVouches.link(founding, member: me, memberKey: identity.publicKey, by: me, signer: identity)
            var vouches = [Signaling.MemberVouch(links: [own])]
            for number in Set(members).subtracting([me]).sorted() {
                let key = try await lookup(number: number).identityKey
                vouches.append(.init(links: [GroupVouches.link(founding, member: number, memberKey: key, by: me, signer: identity), own]))
            }
            (request.founding, request.vouches) = (founding, vouches)
        }
        guard case let .group(group) = try await send(.createGroup(request)) else { throw unexpected("createGroup") }
        return GroupInfo(group)
    }

    /// Adds `number`, vouching for the identity key the server gives for it now, behind this
    /// device's own vouch in the group (none in a group made before vouches: nobody is given
    /// a sender key in such a group).
    public func addGroupMember(group: String, number: String) async throws(ServerConnectionError) -> GroupInfo {
        var change = Signaling.GroupMemberChange(group: group, number: number)
        if let me = registeredNumber, let current = try await groups().first(where: { $0.id == group }),
            let founding = current.founding, let own = current.vouches[me], !current.members.contains(number)
        {
            let key = try await lookup(number: number).identityKey
            change.vouch = .init(links: [GroupVouches.link(founding, member: number, memberKey: key, by: me, signer: identity)] + own.links)
        }
        guard case let .group(updated) = try await send(.addGroupMember(change)) else { throw unexpected("addGroupMember") }
        return GroupInfo(updated)
    }

    public func removeGroupMember(group: String, number: String) async throws(ServerConnectionError) -> GroupInfo {
        guard case let .group(updated) = try await send(.removeGroupMember(.init(group: group, number: number))) else {
            throw unexpected("removeGroupMember")
        }
        return GroupInfo(updated)
    }

    /// The groups this device's number is in, by name.
    public func groups() async throws(ServerConnectionError) -> [GroupInfo] {
        guard case let .groupList(list) = try await send(.listGroups) else { throw unexpected("listGroups") }
        return list.groups.map(GroupInfo.init)
    }
}

/// A group call's room as the server holds it: who is in it now, and — in the answer to a
/// start or join that announced a DTLS fingerprint — where the SFU's media port is and which
/// certificate fingerprint it must show in the DTLS-SRTP handshake.
public struct GroupCallInfo: Sendable, Equatable {
    public let callID: String
    public let group: GroupInfo
    public let participants: [String]
    /// The media port ("HOST:PORT"), when the server has one for this call.
    public let media: HostPort?
    /// The fingerprint the media port's DTLS certificate must have (pin it in the handshake).
    public let mediaFingerprint: DTLSFingerprint?
    /// The room's change count (see `Signaling.GroupCall.version`).
    public let version: UInt64?

    public init(
        callID: String, group: GroupInfo, participants: [String], media: HostPort? = nil, mediaFingerprint: DTLSFingerprint? = nil,
        version: UInt64? = nil
    ) {
        self.callID = callID
        self.group = group
        self.participants = participants
        self.media = media
        self.mediaFingerprint = mediaFingerprint
        self.version = version
    }

    /// Malformed media fields are treated as absent: without both there is no media leg.
    init(_ wire: Signaling.GroupCall) {
        self.init(
            callID: wire.callID, group: GroupInfo(wire.group), participants: wire.participants,
            media: wire.media.flatMap { try? HostPort(parsing: $0) }, mediaFingerprint: wire.mediaFingerprint.flatMap(DTLSFingerprint.init),
            version: wire.version)
    }
}

/// Group-call rooms. Errors: `.unknownGroup` (start in a group you are not in),
/// `.unknownCall` (no such call in a group of yours — non-members cannot join), `.callExists`,
/// `.notPermitted` (the DTLS fingerprint is another member's).
extension ServerConnection {
    /// Starts a call in `group` (its id) and joins it; the group's other online members are
    /// told (`groupCallChanged`, which is their ring). With `dtlsFingerprint` (this device's
    /// DTLS certificate) the server admits that certificate's handshake on the media port.
    public func startGroupCall(group: String, callID: String, dtlsFingerprint: DTLSFingerprint? = nil) async throws(ServerConnectionError)
        -> GroupCallInfo
    {
        let request = Signaling.StartGroupCall(group: group, callID: callID, dtlsFingerprint: dtlsFingerprint?.description)
        guard case let .groupCall(call) = try await send(.startGroupCall(request)) else { throw unexpected("startGroupCall") }
        return GroupCallInfo(call)
    }

    public func joinGroupCall(callID: String, dtlsFingerprint: DTLSFingerprint? = nil) async throws(ServerConnectionError) -> GroupCallInfo
    {
        let request = Signaling.GroupCallRequest(callID: callID, dtlsFingerprint: dtlsFingerprint?.description)
        guard case let .groupCall(call) = try await send(.joinGroupCall(request)) else { throw unexpected("joinGroupCall") }
        return GroupCallInfo(call)
    }

    /// Leaves the room; the server drops this device's media leg with it.
    public func leaveGroupCall(callID: String) async throws(ServerConnectionError) -> GroupCallInfo {
        guard case let .groupCall(call) = try await send(.leaveGroupCall(.init(callID: callID))) else { throw unexpected("leaveGroupCall") }
        return GroupCallInfo(call)
    }
}
