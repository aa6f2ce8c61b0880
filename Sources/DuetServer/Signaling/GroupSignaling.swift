import DuetWire

/// The server's part in groups: membership requests from authenticated, registered devices,
/// and a `groupChanged` event to every member before and after a change — the one who made
/// it too, since another connection of theirs may be in the group's call and must rekey.
struct GroupSignaling {
    let context: SignalingContext

    /// The group requests a device may make (`SignalingRequest.route` picks them out).
    enum Request {
        case create(Signaling.CreateGroup)
        case addMember(Signaling.GroupMemberChange)
        case removeMember(Signaling.GroupMemberChange)
        case list
    }

    func serve(_ request: Request, fromKey key: [UInt8]) async throws(DirectoryError) -> ServerMessage {
        let directory = context.directory
        guard let number = try await directory.number(boundTo: key) else { throw .notRegistered }
        let change: Directory.GroupChange
        switch request {
        case let .create(request): change = try await directory.createGroup(request, by: number)
        case let .addMember(request): change = try await directory.addGroupMember(request, by: number)
        case let .removeMember(request): change = try await directory.removeGroupMember(request, by: number)
        case .list: return .groupList(.init(groups: try await directory.groups(of: number)))
        }
        let event = ServerMessage.groupChanged(.init(group: change.group, added: change.added, removed: change.removed, by: number))
        await context.switchboard.send(event, toNumbers: change.recipients)
        // Someone removed from the group leaves its calls too; someone added is rung for them.
        for removed in change.removed {
            await GroupCallSignaling(context: context).drop(removed, fromGroup: change.group.id)
        }
        await regroupHere(change.group, added: change.added)
        if let mesh = context.switchboard.mesh {
            for node in await mesh.rooms.nodesHoldingRooms() { await mesh.tell(node, .regroup(change.group, added: change.added)) }
        }
        return .group(change.group)
    }

    /// This node's rooms of `group` take its new membership; those `added` are rung.
    func regroupHere(_ group: Signaling.Group, added: [String]) async {
        for call in await context.groupCalls.regroup(group) {
            let ring = ServerMessage.groupCallChanged(.init(call: call.announced, joined: [], left: []))
            await context.switchboard.send(ring, toNumbers: added.filter { !call.participants.contains($0) })
        }
    }
}
