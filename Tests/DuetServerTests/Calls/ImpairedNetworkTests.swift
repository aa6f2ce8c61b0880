import Foundation
import Testing

@testable import DuetClient

/// A bad network (docs/testing.md "Faults"): 20 % of the media datagrams each device receives are lost
/// and the rest held up to 100 ms each (so they also arrive out of order), on real sockets,
/// from the first packet on — connectivity checks, DTLS handshakes and all. Voices must still
/// be identified: jitter buffer, FEC and concealment absorb it.
@Suite("Calls on an impaired network", .serialized)
struct ImpairedNetworkTests {
    static let badNetwork = NetworkImpairment(lossFraction: 0.2, maximumDelayMilliseconds: 100)

    @Test func aOneToOneCallIsHeardThroughLossAndJitter() async throws {
        let server = try await TestServer.start()
        var options = CallOptions()
        options.inboundImpairment = Self.badNetwork
        var answering = options
        answering.autoAnswer = true
        let alice = try await CallTestDevice.make("+15554801", name: "Alice", on: server, options: options)
        let bob = try await CallTestDevice.make("+15554802", name: "Bob", on: server, options: answering)
        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected(timeout: .seconds(60)) != nil, "\(alice.events.log)")
        let aliceHears = await alice.events.waitForHearing(bob.number, timeout: .seconds(60))
        let bobHears = await bob.events.waitForHearing(alice.number, timeout: .seconds(60))
        #expect(aliceHears != nil, "alice does not hear bob through the bad network: \(alice.events.log.suffix(3000))")
        #expect(bobHears != nil, "bob does not hear alice through the bad network: \(bob.events.log)")
        // The loss was really there: the jitter buffers saw it.
        #expect((aliceHears?.lossPercent ?? 0) > 5, "\(String(describing: aliceHears))")
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    @Test func aGroupCallIsHeardThroughLossAndJitter() async throws {
        let server = try await TestServer.start()
        let members = try await GroupCallTests.makeDevices(3, base: 4810, on: server)
        for member in members { await member.engine.setImpairment(Self.badNetwork) }
        let group = try await members[0].session.connection.createGroup(name: "Lossy", members: members.dropFirst().map(\.number))
        let info = try await members[0].engine.start(group: group.id)
        for member in members.dropFirst() { _ = try await member.engine.join(callID: info.callID) }
        for member in members {
            let others = members.filter { $0.number != member.number }
            let heard = await eventually(timeout: .seconds(90)) { await GroupCallTests.hears(member, others) }
            let hearing = await member.engine.snapshot()?.hearing
            #expect(
                heard,
                "\(member.number) does not hear everyone through the bad network: \(String(describing: hearing))\n\(member.events.log)")
        }
        for member in members { await member.close() }
        try await server.stop()
    }
}
