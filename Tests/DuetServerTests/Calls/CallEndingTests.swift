import DuetServer
import DuetWire
import Foundation
import Testing

@testable import DuetClient

/// Every way a call can fail to happen or end, seen from both sides (docs/ARCHITECTURE.md "Call engine"). The peer
/// process killed mid-call is in duetTests, where a real process can be killed.
@Suite("1:1 call endings")
struct CallEndingTests {
    @Test func aDeclinedCallEndsAsDeclinedOnBothSides() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552101", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552102", name: "Bob", on: server)
        try await alice.engine.place(to: bob.number)
        let ring = await bob.events.waitFor { if case .incoming = $0 { true } else { false } }
        #expect(ring == .incoming(from: alice.number, name: nil, trust: .unverified))
        await bob.engine.decline()
        #expect(await alice.events.waitForEnd() == .declined)
        #expect(await bob.events.waitForEnd() == .declined)
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    @Test func aSecondCallerHearsBusyAndTheFirstCallCarriesOn() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552111", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552112", name: "Bob", on: server, options: .autoAnswering)
        let carol = try await CallTestDevice.make("+15552113", name: "Carol", on: server)
        try await alice.engine.place(to: bob.number)
        #expect(await bob.events.waitForConnected() != nil)

        try await carol.engine.place(to: bob.number)
        #expect(await carol.events.waitForEnd() == .busy, "carol: \(carol.events.log)")
        #expect(await alice.engine.state == .connected(.p2p))
        #expect(await bob.engine.state == .connected(.p2p))
        #expect(!bob.events.events.contains { if case let .incoming(from, _, _) = $0 { from == carol.number } else { false } })

        await alice.engine.hangUp()
        #expect(await bob.events.waitForEnd() == .hungUpByPeer)
        await alice.close()
        await bob.close()
        await carol.close()
        try await server.stop()
    }

    @Test func anUnansweredCallStopsRingingOnBothSides() async throws {
        let server = try await TestServer.start()
        var impatient = CallOptions()
        impatient.ringTimeout = 1  // the product rings for 45 s; the same timer, shortened
        let alice = try await CallTestDevice.make("+15552121", name: "Alice", on: server, options: impatient)
        let bob = try await CallTestDevice.make("+15552122", name: "Bob", on: server)
        try await alice.engine.place(to: bob.number)
        #expect(await bob.events.waitFor { if case .incoming = $0 { true } else { false } } != nil)
        #expect(await alice.events.waitForEnd() == .noAnswer)
        #expect(await bob.events.waitForEnd() == .cancelled, "the caller's cancel stops the callee ringing")
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    @Test func theCallerCancellingStopsTheRinging() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552131", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552132", name: "Bob", on: server)
        try await alice.engine.place(to: bob.number)
        #expect(await bob.events.waitFor { if case .incoming = $0 { true } else { false } } != nil)
        await alice.engine.hangUp()
        #expect(await alice.events.waitForEnd() == .cancelled)
        #expect(await bob.events.waitForEnd() == .cancelled)
        // Bob can still take the next call.
        try await alice.engine.place(to: bob.number)
        #expect(await bob.events.waitFor(count: 2) { if case .incoming = $0 { true } else { false } })
        await bob.engine.accept()
        #expect(await alice.events.waitForConnected() == .p2p, "alice: \(alice.events.log)")
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    @Test func callingAnOfflineOrUnknownNumberFailsWithAReason() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15552141", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15552142", name: "Bob", on: server)
        await bob.session.close()

        await #expect(throws: ServerConnectionError.self) { try await alice.engine.place(to: "+15559999") }
        #expect(await alice.engine.state == .idle)

        // Bob is registered but offline (once the server has seen his connection close).
        for _ in 0..<100 where try await alice.session.connection.lookup(number: bob.number).online {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await alice.engine.place(to: bob.number)
        let reason = await alice.events.waitForEnd()
        guard case let .failed(text)? = reason else {
            Issue.record("no failure: \(alice.events.log)")
            return
        }
        #expect(text.contains("could not ring"))
        await alice.close()
        try await server.stop()
    }
}
