/// The bodies of group messages (docs/group-calls.md). A group is a named set of numbers the
/// server keeps, so it can ring every member and let only members into the group's calls.
/// Groups are addressed by the id the server gives them; names need not be unique.
extension Signaling {
    /// Most members a group may have (the SFU's largest room).
    public static let maximumGroupMembers = 32
    /// Longest group name, in characters.
    public static let maximumGroupNameLength = 40

    /// C→S: make a group; the creator becomes its owner and a member.
    public struct CreateGroup: Codable, Hashable, Sendable {
        public var name: String
        public var members: [String]
        /// The founder's root and a vouch for every member, the founder included (nil from a
        /// client that vouches for nobody: its group's members get no sender keys).
        public var founding: GroupFounding?
        public var vouches: [MemberVouch]?
        public init(name: String, members: [String], founding: GroupFounding? = nil, vouches: [MemberVouch]? = nil) {
            self.name = name
            self.members = members
            self.founding = founding
            self.vouches = vouches
        }
    }

    /// C→S: add or remove one member (reply `group`). Any member may add; the owner may
    /// remove anyone; a member may remove itself (leave).
    public struct GroupMemberChange: Codable, Hashable, Sendable {
        public var group: String
        public var number: String
        /// On an add: the adder's vouch for `number`, chained to the adder's own.
        public var vouch: MemberVouch?
        public init(group: String, number: String, vouch: MemberVouch? = nil) {
            self.group = group
            self.number = number
            self.vouch = vouch
        }
    }

    /// S→C: a group as the server holds it.
    public struct Group: Codable, Hashable, Sendable {
        public var id: String
        public var name: String
        public var owner: String
        /// Sorted.
        public var members: [String]
        public var founding: GroupFounding?
        /// By member; a member without one was vouched for by nobody.
        public var vouches: [String: MemberVouch]?
        public init(
            id: String, name: String, owner: String, members: [String], founding: GroupFounding? = nil,
            vouches: [String: MemberVouch]? = nil
        ) {
            self.id = id
            self.name = name
            self.owner = owner
            self.members = members
            self.founding = founding
            self.vouches = vouches
        }

        /// "groupId" on the wire: a message's own fields sit beside the envelope's "id".
        enum CodingKeys: String, CodingKey {
            case id = "groupId", name, owner, members, founding, vouches
        }
    }

    /// S→C: the groups the requesting device's number belongs to (reply to `listGroups`).
    public struct GroupList: Codable, Hashable, Sendable {
        public var groups: [Group]
        public init(groups: [Group]) { self.groups = groups }
    }

    /// S→C event, to every member before and after the change: who joined or left, and who
    /// did it. Group calls rekey on it.
    public struct GroupChanged: Codable, Hashable, Sendable {
        public var group: Group
        public var added: [String]
        public var removed: [String]
        public var by: String
        public init(group: Group, added: [String], removed: [String], by: String) {
            self.group = group
            self.added = added
            self.removed = removed
            self.by = by
        }
    }

    /// A group name: 1 to 40 characters, no control characters, not blank.
    public static func isValidGroupName(_ name: String) -> Bool {
        (1...maximumGroupNameLength).contains(name.count) && !name.trimmingCharactersBlank.isEmpty
            && !name.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }
    }
}

extension String {
    fileprivate var trimmingCharactersBlank: Substring {
        drop { $0.isWhitespace }
    }
}
