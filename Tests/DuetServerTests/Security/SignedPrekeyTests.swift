import DuetCrypto
import DuetServer
import Foundation
import Testing

@testable import DuetClient

/// The signed prekey a device publishes (docs/SECURITY.md, "Your device"): rotated weekly and
/// uploaded after every rotation, so callers always use one the device still holds.
@Suite("Security: signed prekey rotation", .serialized)
struct SignedPrekeyTests {
    /// Bob runs `duet keys rotate-spk` twice while offline (his store keeps only the current and
    /// the previous prekey, so the one the server holds is gone). When his device connects again
    /// it publishes the current one, and Alice's call to him connects.
    @Test func aDeviceRotatedTwiceCanStillBeCalled() async throws {
        let server = try await TestServer.start()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-spk-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let store = try DeviceStore.open(ProfileLocation(name: "bob", home: home), passphrase: nil, create: true)
        try store.initializeKeys()
        let first = try await DeviceSession.open(store: store, server: server.address)
        _ = try await first.register(number: "+15552461", name: "Bob", invite: nil)
        await first.close()
        let published = try store.currentSignedPrekey().id
        _ = try store.rotateSignedPrekey()
        let current = try store.rotateSignedPrekey()
        #expect(throws: DeviceStoreError.unknownSignedPrekey(id: published)) { try store.signedPrekey(id: published) }

        let session = try await DeviceSession.open(store: store, server: server.address)
        let engine = try CallEngine(session: session, options: .autoAnswering)
        let bobEvents = CallEventRecorder(engine.events)
        await engine.start()
        let alice = try await CallTestDevice.make("+15552462", name: "Alice", on: server)
        #expect(try await alice.session.connection.fetchBundle(number: "+15552461").signedPrekey.id == current.id)
        try await alice.engine.place(to: "+15552461")
        #expect(await alice.events.waitForConnected() != nil, "alice: \(alice.events.log)\nbob: \(bobEvents.log)")
        await alice.close()
        await engine.hangUp()
        await session.close()
        try await server.stop()
    }

    /// A signed prekey a week old is replaced when the device connects, and the new one is what
    /// the server hands out; the previous one stays for calls set up just before.
    @Test func aWeekOldSignedPrekeyIsRotatedAndPublishedOnConnecting() async throws {
        let server = try await TestServer.start()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-spk-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let store = try DeviceStore.open(ProfileLocation(name: "carol", home: home), passphrase: nil, create: true)
        try store.initializeKeys(now: Date().addingTimeInterval(-8 * 24 * 3600))
        let first = try await DeviceSession.open(store: store, server: server.address)
        _ = try await first.register(number: "+15552463", name: "Carol", invite: nil)
        await first.close()
        let old = try store.currentSignedPrekey().id

        let session = try await DeviceSession.open(store: store, server: server.address)
        let fresh = try store.currentSignedPrekey()
        #expect(fresh.id != old)
        #expect(Date().timeIntervalSince(fresh.publicPart.createdAt) < 3600)
        #expect((try? store.signedPrekey(id: old)) != nil, "the previous one is kept for late calls")
        let alice = try await CallTestDevice.make("+15552464", name: "Alice", on: server)
        #expect(try await alice.session.connection.fetchBundle(number: "+15552463").signedPrekey.id == fresh.id)
        await alice.close()
        await session.close()
        try await server.stop()
    }
}
