import DuetCrypto
import DuetWire

/// Signed group membership (docs/SECURITY.md, "Group membership"): the member who adds
/// someone signs "I add this number, with this identity key" under their identity key, and
/// chains their own vouch behind it back to the group's founder. The server stores the chains
/// and hands them out; it cannot make one. A device gives its sender key only to members whose
/// chain verifies, and only to the identity key the chain names, so neither a number the server
/// adds nor a key it swaps in receives a key.
public enum GroupVouches {
    /// A new group's root, for `founder` (this device) with its identity key.
    public static func founding(founder: String, key: IdentityPublicKey) -> Signaling.GroupFounding {
        Signaling.GroupFounding(
            founder: founder, founderKey: Base64Bytes(key.rawRepresentation),
            nonce: Base64Bytes(SecureRandom.bytes(16)))  // public: no SecureBytes
    }

    /// `signer` (number `by`) vouches for `member` holding `memberKey`, in the group `founding` roots.
    public static func link(
        _ founding: Signaling.GroupFounding, member: String, memberKey: IdentityPublicKey, by: String,
        signer: IdentityKeyPair
    ) -> Signaling.VouchLink {
        let statement = statement(founding, member: member, memberKey: memberKey.rawRepresentation, by: by)
        return Signaling.VouchLink(
            member: member, memberKey: Base64Bytes(memberKey.rawRepresentation), by: by,
            signature: Base64Bytes(signer.signature(for: statement)))
    }

    /// The members of `group` whose vouch chain verifies, each with the identity key it names.
    public static func vouched(_ group: GroupInfo) -> [String: IdentityPublicKey] {
        guard let founding = group.founding else { return [:] }
        var keys: [String: IdentityPublicKey] = [:]
        for member in group.members {
            if let vouch = group.vouches[member], let key = verify(vouch, of: member, in: founding) { keys[member] = key }
        }
        return keys
    }

    /// The key `vouch` admits `member` under, if every link is signed by the key the next link
    /// (or, for the last, the founding) names.
    static func verify(_ vouch: Signaling.MemberVouch, of member: String, in founding: Signaling.GroupFounding) -> IdentityPublicKey? {
        guard vouch.isWellFormed(for: member), vouch.links.last?.by == founding.founder else { return nil }
        for (index, link) in vouch.links.enumerated() {
            let signerKey = index + 1 < vouch.links.count ? vouch.links[index + 1].memberKey : founding.founderKey
            guard let signer = try? IdentityPublicKey(rawRepresentation: signerKey.bytes),
                signer.isValidSignature(
                    link.signature.bytes,
                    for: statement(
                        founding, member: link.member, memberKey: link.memberKey.bytes,
                        by: link.by))
            else { return nil }
        }
        return try? IdentityPublicKey(rawRepresentation: vouch.links[0].memberKey.bytes)
    }

    /// What a link signs: the group's root, the member and their key, and the signer's number,
    /// each length-prefixed so no two statements share bytes.
    static func statement(_ founding: Signaling.GroupFounding, member: String, memberKey: [UInt8], by: String) -> [UInt8] {
        var bytes = Array("Duet group vouch v1".utf8)
        for field in [
            Array(founding.founder.utf8), founding.founderKey.bytes, founding.nonce.bytes, Array(member.utf8), memberKey, Array(by.utf8)
        ] {
            bytes += [UInt8(truncatingIfNeeded: field.count >> 8), UInt8(truncatingIfNeeded: field.count)] + field
        }
        return bytes
    }
}
