@testable import DuetClient
import DuetWire
import Foundation
import Testing

/// The server going away in the middle of a call (issue [9/9] §2). A peer-to-peer call's
/// media never touches the server, so it must go on; the devices' signaling reconnects to
/// the restarted server (same ports, same data) on its own, and the call can still be hung up.
@Suite("Server restarts during calls", .serialized)
struct ServerRestartTests {
    @Test func aPeerToPeerCallOutlivesAServerRestartAndSignalingReconnects() async throws {
        let first = try await TestServer.start()
        let signaling = first.address, media = first.app.mediaAddress
        var answering = CallOptions()
        answering.autoAnswer = true
        let alice = try await CallTestDevice.make("+15554901", name: "Alice", on: first)
        let bob = try await CallTestDevice.make("+15554902", name: "Bob", on: first, options: answering)
        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .p2p, "\(alice.events.log)")
        #expect(await bob.events.waitForHearing(alice.number) != nil, "\(bob.events.log)")

        try await first.stop(keepingData: true)
        #expect(await eventually(timeout: .seconds(10)) { await alice.session.link != .connected }, "alice never noticed the server go")
        // Media goes on without the server: new hearing reports name the peer, three seconds on.
        let heardBefore = bob.events.events.count
        try await Task.sleep(for: .seconds(3))
        let later = bob.events.events.dropFirst(heardBefore).compactMap { if case let .hearing(report) = $0 { report } else { nil } }
        #expect(later.count >= 2 && later.allSatisfy { $0.speaker?.contains(alice.number) == true },
                "bob stopped hearing alice while the server was down: \(later)")
        #expect(await alice.engine.state == .connected(.p2p))

        let second = try await TestServer.start(dataDirectory: first.dataDirectory, signaling: signaling, media: media)
        let reconnected = await eventually(timeout: .seconds(40)) {
            let links = (await alice.session.link, await bob.session.link)
            return links.0 == .connected && links.1 == .connected
        }
        let links = (await alice.session.link, await bob.session.link)
        #expect(reconnected, "signaling did not reconnect: alice \(links.0), bob \(links.1)")
        #expect(await alice.engine.state == .connected(.p2p), "the call did not survive: \(alice.events.log)")
        // The restarted server carries the hang-up to the peer.
        await alice.engine.hangUp()
        let ended = await bob.events.waitFor(timeout: .seconds(15)) { if case .state(.ended) = $0 { true } else { false } }
        #expect(ended == .state(.ended(.hungUpByPeer)), "\(bob.events.log)")
        await alice.close(); await bob.close()
        try await second.stop()
    }
}
