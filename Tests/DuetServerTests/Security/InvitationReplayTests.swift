import DuetCrypto
import DuetServer
import Foundation
import Testing

@testable import DuetClient

/// A call invitation delivered again (docs/SECURITY.md, "The signaling server").
@Suite("Security: a replayed call invitation", .serialized)
struct InvitationReplayTests {
    /// Bob's one-time prekeys are drained, so an invitation from Alice opens as often as it is
    /// delivered. The server delivers one twice: Bob's device rings once, and refuses the second
    /// as a replay. An invitation whose offer Alice made an hour ago (a recording kept for later)
    /// does not ring either.
    @Test func aReplayedOrOldInvitationDoesNotRing() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552481", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552482", name: "Bob", on: server)
        try await bob.addContact(alice, name: "Alice")
        try TamperedDirectory(server).drainOneTimePrekeys(of: bob.number)

        func invitation(_ callID: String, madeAgo age: TimeInterval) async throws -> [UInt8] {
            let bundle = try await alice.session.connection.fetchBundle(number: bob.number)
            let offer = CallOffer(
                callerNonce: Data(SecureBytes(randomCount: 32).withUnsafeBytes { Array($0) }),
                sasCommitment: Data(SASCommitment.random().commitment), candidates: [], ssrc: 5, relayOnly: false,
                sentAt: Date().timeIntervalSince1970 - age)
            let made = try CallHandshake.invite(
                identity: try alice.store.identity(), callerNumber: alice.number, bundle: bundle, callID: callID, offer: offer)
            return Array(try JSONEncoder().encode(made.invitation))
        }
        func deliver(_ payload: [UInt8], _ callID: String) async throws {
            try await alice.session.connection.sendCallSignal(
                to: bob.number, callID: callID, kind: CallSignal.Kind.invite.rawValue, payload: payload)
        }
        func rings() -> Int { bob.events.events.filter { if case .incoming = $0 { true } else { false } }.count }
        func refusals() -> Int {
            bob.events.events.filter {
                if case let .notice(notice) = $0 {
                    notice.kind == .refused && notice.text.contains("refused a call from \(alice.number)")
                } else {
                    false
                }
            }.count
        }

        let first = try await invitation("replayed-invite", madeAgo: 0)
        try await deliver(first, "replayed-invite")
        #expect(await bob.events.waitFor { if case .incoming = $0 { true } else { false } } != nil, "bob: \(bob.events.log)")
        await bob.engine.decline()
        _ = await bob.events.waitForEnd()
        try await deliver(first, "replayed-invite")
        #expect(await eventually { refusals() == 1 }, "bob: \(bob.events.log)")
        try await deliver(try await invitation("old-invite", madeAgo: 3600), "old-invite")
        #expect(await eventually { refusals() == 2 }, "bob: \(bob.events.log)")
        #expect(rings() == 1, "bob: \(bob.events.log)")
        await alice.close()
        await bob.close()
        try await server.stop()
    }
}
