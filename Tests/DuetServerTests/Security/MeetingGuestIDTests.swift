import DuetCrypto
import DuetMedia
import DuetWire
import Testing

@testable import DuetServer

/// Guest ids in meetings (docs/SECURITY.md, "Meeting guests").
@Suite("Security: meeting guest ids")
struct MeetingGuestIDTests {
    static func member(_ id: String, key: IdentityKeyPair, ssrc: UInt32) throws -> MeetingRegistry.Member {
        let fingerprint = try DTLSCertificate().fingerprint
        return .init(
            participant: .init(id: id, name: id, guest: true, ssrc: ssrc), key: key.publicKey.rawRepresentation, fingerprint: fingerprint)
    }

    /// A guest id is 64 bits of the key's hash; a second key with the same id (a collision, or
    /// a server bug) is refused at the door and the first guest stays in; the first guest's own
    /// device coming back (same key) replaces its old entry as before.
    @Test func aSharedIDIsRefusedAndEvictsNobody() async throws {
        let id = MeetingSignaling.guestID(for: IdentityKeyPair.generate().publicKey)
        #expect(
            id.count == "guest-".count + 16 && MeetingSignaling.isGuestID(Substring(id)), "the relay must take the id it names guests by")
        let registry = MeetingRegistry()
        let host = IdentityKeyPair.generate(), first = IdentityKeyPair.generate(), second = IdentityKeyPair.generate()
        _ = try await registry.create(
            code: "abc-defg-hij", host: try Self.member("+15552495", key: host, ssrc: 10), open: true, record: false)
        guard
            case .admitted = try await registry.knock(
                "abc-defg-hij", member: try Self.member("guest-0123456789abcdef", key: first, ssrc: 20))
        else {
            Issue.record("an open meeting lets a guest in")
            return
        }
        await #expect(throws: DirectoryError.self) {
            _ = try await registry.knock("abc-defg-hij", member: try Self.member("guest-0123456789abcdef", key: second, ssrc: 30))
        }
        guard
            case let .admitted(room) = try await registry.knock(
                "abc-defg-hij", member: try Self.member("guest-0123456789abcdef", key: first, ssrc: 40))
        else {
            Issue.record("the same device comes back in")
            return
        }
        #expect(room.members.filter { $0.id == "guest-0123456789abcdef" }.map(\.key) == [first.publicKey.rawRepresentation])
    }
}
