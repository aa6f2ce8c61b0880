/// Who vouched for whom in a group (docs/SECURITY.md, "Group membership"). The server keeps
/// and hands out these records but cannot make them: each link is signed by the identity key
/// of the member who added someone, and the chain ends at the group's founding, whose key the
/// founder chose. A device gives its sender key only to members whose chain verifies, so a
/// number the server slips into a group receives nothing.
extension Signaling {
    /// Longest vouch chain: a member added by a member added by … at most this deep. Bounded so
    /// a group of 32 with its chains fits in one signaling frame (a link is about 220 bytes of
    /// JSON); someone nearer the founder can add a member the chain is too long for.
    public static let maximumVouchLinks = 6

    /// The group's root: the founder's number and identity key, and a random nonce that makes
    /// every group's signatures its own (a link signed for one group means nothing in another).
    public struct GroupFounding: Codable, Hashable, Sendable {
        public var founder: String
        public var founderKey: Base64Bytes
        public var nonce: Base64Bytes
        public init(founder: String, founderKey: Base64Bytes, nonce: Base64Bytes) {
            self.founder = founder
            self.founderKey = founderKey
            self.nonce = nonce
        }
    }

    /// "`by` added `member`, whose identity key is `memberKey`", signed with `by`'s identity key.
    public struct VouchLink: Codable, Hashable, Sendable {
        public var member: String
        public var memberKey: Base64Bytes
        public var by: String
        public var signature: Base64Bytes
        public init(member: String, memberKey: Base64Bytes, by: String, signature: Base64Bytes) {
            self.member = member
            self.memberKey = memberKey
            self.by = by
            self.signature = signature
        }
    }

    /// A member's chain: the first link admits the member, each next link admits the signer of
    /// the one before, and the last is signed by the founder's key.
    public struct MemberVouch: Codable, Hashable, Sendable {
        public var links: [VouchLink]
        public init(links: [VouchLink]) { self.links = links }

        /// The shape the server checks before storing one (it cannot check the signatures'
        /// meaning for the members, who check them): 1 to `maximumVouchLinks` links, the first
        /// naming `member`, each signer the member of the next link.
        public func isWellFormed(for member: String) -> Bool {
            guard (1...maximumVouchLinks).contains(links.count), links[0].member == member else { return false }
            return zip(links, links.dropFirst()).allSatisfy { $0.by == $1.member }
        }
    }
}
