import DuetClient
import DuetCrypto
import DuetServer
import DuetWire
import Foundation
import Testing

/// The client's device session against a real server: pinning on first use, key changes
/// applied to contacts, prekeys topped up after the device was away.
@Suite("Device session", .serialized)
struct DeviceSessionTests {
    func makeStore(_ name: String) throws -> DeviceStore {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-session-\(UUID().uuidString)")
        let store = try DeviceStore.open(ProfileLocation(name: name, home: home), passphrase: nil, create: true)
        try store.initializeKeys()
        return store
    }

    func waitUntil(_ condition: @Sendable () async -> Bool) async -> Bool {
        for _ in 0..<300 {  // an upper bound of 30 s, not a timing assertion
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func firstUsePinsTheCertificateAndRegistrationIsRemembered() async throws {
        let server = try await TestServer.start()
        let store = try makeStore("alice")
        let session = try await DeviceSession.open(store: store, server: server.address)
        _ = try await session.register(number: "+15550101", name: "Alice", invite: nil)
        await session.close()
        let account = try store.account()
        #expect(account.number == "+15550101")
        #expect(account.server == server.address)
        #expect(account.serverFingerprint == server.fingerprint.description)
        // The next session needs no address: the profile remembers it.
        let again = try await DeviceSession.open(store: store)
        await again.close()
        try await server.stop()
    }

    @Test func aDeviceAwayWhileItsPrekeysRanOutTopsUpOnReturn() async throws {
        let server = try await TestServer.start()
        let store = try makeStore("bob")
        let bob = try await DeviceSession.open(store: store, server: server.address)
        _ = try await bob.register(number: "+15550102", name: nil, invite: nil)
        await bob.close()
        // While Bob is offline, callers take 85 of his 100 one-time prekeys (two of them: one
        // requester gets at most 64 at once, `PrekeyHandoutLimit`).
        for (number, fetches) in [("+15550103", 60), ("+15550104", 25)] {
            let caller = TestDevice()
            let (connection, _) = try await caller.connect(to: server)
            try await caller.register(connection, as: number)
            for _ in 0..<fetches { _ = try await connection.fetchBundle(number: "+15550102") }
            await connection.close()
        }
        // Bob comes back: the server says he is low and he uploads 85 fresh keys.
        let back = try await DeviceSession.open(store: store)
        let toppedUp = await waitUntil { await back.notices.contains { $0.kind == .prekeys && $0.text.contains("server now holds 100") } }
        #expect(toppedUp)
        let held = try store.oneTimePrekeyCount()
        let notices = await back.notices
        #expect(held == 185, "device holds \(held); notices: \(notices)")  // handed-out keys stay until a call uses them
        await back.close()
        try await server.stop()
    }

    @Test func aKeyChangeNoticeMarksTheContact() async throws {
        let server = try await TestServer.start(openRegistration: true)
        let store = try makeStore("carol")
        let carol = try await DeviceSession.open(store: store, server: server.address)
        _ = try await carol.register(number: "+15550104", name: nil, invite: nil)
        let dave = TestDevice()
        let (first, _) = try await dave.connect(to: server)
        try await dave.register(first, as: "+15550105")
        let contact = try await carol.addContact(number: "+15550105", name: "Dave")
        #expect(try store.markVerified(number: "+15550105", key: #require(contact.identityKey)))
        // Dave's number moves to a new key while Carol is online.
        let newDave = TestDevice()
        let (second, _) = try await newDave.connect(to: server)
        try await newDave.register(second, as: "+15550105")
        let marked = await waitUntil {
            if case .keyChanged = (try? store.contact(number: "+15550105"))?.trust { return true }
            return false
        }
        #expect(marked)
        #expect(try store.contact(number: "+15550105")?.identityKey == newDave.identity.publicKey)
        await carol.close()
        await first.close()
        await second.close()
        try await server.stop()
    }
}
