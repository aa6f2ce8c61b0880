import Foundation
import Testing

@testable import DuetCrypto

@Suite("TURN long-term credential (RFC 5769 §2.4)")
struct TURNCredentialTests {
    /// The "name: hex" lines of the vector file.
    static func vector() throws -> [String: [UInt8]] {
        var fields: [String: [UInt8]] = [:]
        for line in try VectorFile.text("stun-rfc5769.txt").split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { fields[parts[0]] = .init(hex: parts[1]) }
        }
        return fields
    }

    static let username = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}"

    @Test func theVectorFileHoldsEveryField() throws {
        let v = try Self.vector()
        #expect(Set(v.keys) == ["username-utf8", "key", "covered", "message-integrity"])
        #expect(v["covered"]?.count == 92)
        #expect(Array(Self.username.utf8) == v["username-utf8"])
    }

    @Test func derivesTheKeyOfTheSample() throws {
        let credential = TURNCredential(username: Self.username, realm: "example.org", password: "TheMatrIX")
        #expect(credential.key.withUnsafeBytes { Array($0) } == (try Self.vector())["key"])
    }

    @Test func reproducesTheSamplesMessageIntegrity() throws {
        let v = try Self.vector()
        let credential = TURNCredential(username: Self.username, realm: "example.org", password: "TheMatrIX")
        let mac = credential.messageIntegrity(over: try #require(v["covered"]))
        #expect(mac.count == TURNCredential.integrityLength)
        #expect(mac == v["message-integrity"])
    }

    @Test func anotherPasswordOrRealmGivesAnotherMAC() throws {
        let covered = try #require(try Self.vector()["covered"])
        let right = TURNCredential(username: Self.username, realm: "example.org", password: "TheMatrIX").messageIntegrity(over: covered)
        let wrongPassword = TURNCredential(username: Self.username, realm: "example.org", password: "TheMatrix").messageIntegrity(
            over: covered)
        let wrongRealm = TURNCredential(username: Self.username, realm: "example.com", password: "TheMatrIX").messageIntegrity(
            over: covered)
        #expect(right != wrongPassword)
        #expect(right != wrongRealm)
    }
}
