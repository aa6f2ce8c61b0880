import DuetClient
import DuetWire
import Foundation
import Testing

/// 1:1 calls whose relay is reached over TCP or TLS (docs/networking.md "TURN over TCP and TLS"):
/// the caller's relay link is a stream, the callee's stays UDP, and the relay joins the two.
@Suite("Relay over TCP and TLS", .serialized)
struct RelayStreamCallTests {
    func call(over transport: RelayTransport, numbers: (String, String)) async throws {
        let server = try await TestServer.start()
        var caller = CallOptions()
        caller.forceRelay = true
        caller.relayTransports = [transport]
        let alice = try await CallTestDevice.make(numbers.0, name: "Alice", on: server, options: caller)
        let bob = try await CallTestDevice.make(numbers.1, name: "Bob", on: server, options: .autoAnswering)

        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .relay(transport), "alice: \(alice.events.log)")
        #expect(await bob.events.waitForConnected() == .relay(.udp), "bob: \(bob.events.log)")
        #expect(await alice.events.waitForHearing(bob.number) != nil, "alice: \(alice.events.log)")
        #expect(await bob.events.waitForHearing(alice.number) != nil, "bob: \(bob.events.log)")
        await alice.engine.hangUp()
        #expect(await bob.events.waitForEnd() == .hungUpByPeer)
        #expect(await alice.events.waitFor { if case .keysWiped = $0 { true } else { false } } != nil)
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    @Test func aCallRelayedOverTCPIsHeardBothWays() async throws {
        try await call(over: .tcp, numbers: ("+15552401", "+15552402"))
    }

    /// TLS to the relay is checked against the certificate the device pinned at registration.
    @Test func aCallRelayedOverTLSIsHeardBothWays() async throws {
        try await call(over: .tls, numbers: ("+15552411", "+15552412"))
    }
}
