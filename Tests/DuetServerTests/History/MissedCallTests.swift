import DuetCrypto
import DuetWire
import Foundation
import Testing

@testable import DuetClient
@testable import DuetServer

/// The call history and missed calls, over a real server (docs/history.md): what each side
/// records, and the sealed notice a caller leaves for a callee who is away — which only the
/// callee opens, which nobody but the caller can make, and which the server forgets once kept.
@Suite("Call history and missed calls", .serialized)
struct MissedCallTests {
    @Test func bothSidesRecordAnAnsweredCall() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15553401", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15553402", name: "Bob", on: server, options: .autoAnswering)
        try await alice.addContact(bob, name: "Bob")
        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() != nil)
        #expect(await bob.events.waitForHearing(alice.number) != nil)
        await alice.engine.hangUp()
        #expect(await bob.events.waitForEnd() == .hungUpByPeer)
        let outgoing = try #require(try alice.store.history().first)
        #expect(outgoing.direction == .outgoing && outgoing.peer == bob.number && outgoing.who == "Bob (\(bob.number))")
        #expect(outgoing.outcome == .answered && outgoing.path == "p2p" && outgoing.duration != nil && !outgoing.verified)
        let incoming = try #require(try bob.store.history().first)
        #expect(incoming.direction == .incoming && incoming.peer == alice.number && incoming.outcome == .answered)
        #expect(incoming.callID == outgoing.callID)
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    /// Bob is offline when Alice calls: she leaves a sealed notice; when Bob's device is back it
    /// shows "missed call from Alice", records it, and the server forgets it. On both engines.
    @Test(arguments: DirectoryEngine.allCases)
    func aCallToAnOfflineDeviceIsAMissedCallWhenItComesBack(engine: DirectoryEngine) async throws {
        let server = try await TestServer.start(engine: engine)
        let alice = try await CallTestDevice.make("+15553411", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15553412", name: "Bob", on: server)
        try await bob.session.addContact(number: alice.number, name: "Alice")
        await bob.session.close()
        let offline = await eventually { (try? await alice.session.connection.lookup(number: bob.number).online) == false }
        #expect(offline)
        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForEnd() != nil)
        let left = await alice.events.waitFor {
            if case let .notice(notice) = $0 { notice.kind == .missedCall(number: bob.number) } else { false }
        }
        #expect(left != nil, "alice: \(alice.events.log)")
        #expect(try alice.store.history().first?.outcome == .failed)

        let back = try await DeviceSession.open(store: bob.store, server: server.address)
        let missed = await eventually { (try? bob.store.history().first?.outcome) == .missed }
        #expect(missed, "bob's history: \((try? bob.store.history()) ?? [])")
        let record = try #require(try bob.store.history().first)
        #expect(record.peer == alice.number && record.who == "Alice (\(alice.number))" && record.direction == .incoming)
        #expect(await back.notices.contains { $0.kind == .missedCall(number: alice.number) && $0.text.hasPrefix("missed call from Alice") })
        let forgotten = await eventually { ((try? await back.connection.takeNotices()) ?? [.init(id: 0, sealed: .init([]))]).isEmpty }
        #expect(forgotten, "the server still holds the notice after it was kept")
        #expect(try await back.collectMissedCalls().isEmpty, "a notice is recorded once")
        await back.close()
        await alice.close()
        try await server.stop()
    }

    /// A notice claiming to be from Alice but signed by Mallory's key (what a server or another
    /// member could make) is dropped, and so is one sealed for another number.
    @Test func aNoticeNotSignedByItsCallerIsDropped() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15553421", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15553422", name: "Bob", on: server)
        let mallory = try await CallTestDevice.make("+15553423", name: "Mallory", on: server)
        try await bob.session.addContact(number: alice.number, name: "Alice")
        let bobKey = try bob.store.identity().publicKey
        let forged = try MissedCallNotice(from: alice.number, to: bob.number, callID: "forged")
            .sealed(by: try mallory.store.identity(), to: bobKey)
        try await mallory.session.connection.leaveNotice(for: bob.number, sealed: forged)
        let misdirected = try MissedCallNotice(from: mallory.number, to: "+15559999", callID: "elsewhere")
            .sealed(by: try mallory.store.identity(), to: bobKey)
        try await mallory.session.connection.leaveNotice(for: bob.number, sealed: misdirected)
        try await mallory.session.connection.leaveNotice(for: bob.number, sealed: Array(repeating: 7, count: 200))
        #expect(try await bob.session.collectMissedCalls().isEmpty)
        #expect(try bob.store.history().isEmpty, "a dropped notice left a record")
        let warnings = await bob.session.notices.filter { $0.severity == .warning }.map(\.text)
        #expect(warnings.contains(MissedCallError.wrongSigner(number: alice.number).description), "\(warnings)")
        #expect(warnings.contains(MissedCallError.notForUs("+15559999").description), "\(warnings)")
        #expect(warnings.contains { $0.hasPrefix("a sealed notice was dropped") }, "\(warnings)")
        #expect(try await bob.session.connection.takeNotices().isEmpty, "dropped notices are forgotten too")
        for device in [alice, bob, mallory] { await device.close() }
        try await server.stop()
    }

    /// The server keeps at most 5 notices from one device for another, none over 1 KiB, none
    /// from a device with no number, and hands a device only its own.
    @Test func noticesAreBoundedAndOnlyTheirRecipientTakesThem() async throws {
        let server = try await TestServer.start()
        let alice = try await CallTestDevice.make("+15553431", name: "Alice", on: server)
        let bob = try await CallTestDevice.make("+15553432", name: "Bob", on: server)
        let connection = alice.session.connection
        for _ in 0..<Directory.maximumNoticesFromOneSender { try await connection.leaveNotice(for: bob.number, sealed: [1, 2, 3]) }
        await Self.expectRefused(.quotaExceeded) { try await connection.leaveNotice(for: bob.number, sealed: [1, 2, 3]) }
        await Self.expectRefused(.quotaExceeded) {
            try await connection.leaveNotice(for: alice.number, sealed: Array(repeating: 0, count: Directory.maximumNoticeBytes + 1))
        }
        await Self.expectRefused(.unknownNumber) { try await connection.leaveNotice(for: "+15559998", sealed: [1]) }
        let stranger = TestDevice()
        let (strangerConnection, _) = try await stranger.connect(to: server)
        await Self.expectRefused(.notRegistered) { try await strangerConnection.leaveNotice(for: bob.number, sealed: [1]) }
        #expect(try await connection.takeNotices().isEmpty, "alice is handed bob's notices")
        let waiting = try await bob.session.connection.takeNotices()
        #expect(waiting.count == Directory.maximumNoticesFromOneSender)
        // Alice cannot make the server forget bob's notices.
        try await connection.forgetNotices(waiting.map(\.id))
        #expect(try await bob.session.connection.takeNotices().count == waiting.count)
        await strangerConnection.close()
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    /// A device holds at most 100 notices from everyone; they are handed over a page at a time
    /// (a full mailbox never makes a reply too large for a frame), and one address may leave
    /// only a burst of them before it is rate limited.
    @Test func aFullMailboxIsCappedPagedAndRateLimited() async throws {
        var limits = SignalingLimits()
        limits.noticeBurst = 200
        let server = try await TestServer.start(openRegistration: true, limits: limits)
        let bob = TestDevice()
        let (bobConnection, _) = try await bob.connect(to: server)
        try await bob.register(bobConnection, as: "+15553440")
        var senders: [ServerConnection] = []
        for index in 0..<(Directory.maximumNoticesWaiting / Directory.maximumNoticesFromOneSender) {
            let sender = TestDevice(oneTimePrekeyCount: 1)
            let (connection, _) = try await sender.connect(to: server)
            try await sender.register(connection, as: "+155534\(50 + index)")
            for _ in 0..<Directory.maximumNoticesFromOneSender {
                try await connection.leaveNotice(for: "+15553440", sealed: Array(repeating: 9, count: Directory.maximumNoticeBytes))
            }
            senders.append(connection)
        }
        let late = TestDevice(oneTimePrekeyCount: 1)
        let (lateConnection, _) = try await late.connect(to: server)
        try await late.register(lateConnection, as: "+15553499")
        await Self.expectRefused(.quotaExceeded) { try await lateConnection.leaveNotice(for: "+15553440", sealed: [1]) }
        var taken = 0
        var page = try await bobConnection.takeNotices()
        while !page.isEmpty {
            #expect(page.count <= Directory.noticesPerPage)
            taken += page.count
            page = try await bobConnection.forgetNotices(page.map(\.id))
        }
        #expect(taken == Directory.maximumNoticesWaiting)
        for connection in senders + [lateConnection, bobConnection] { await connection.close() }
        try await server.stop()

        // The default burst per address, then refusals.
        let strict = try await TestServer.start(openRegistration: true)
        let (target, _) = try await bob.connect(to: strict)
        try await bob.register(target, as: "+15553440")
        let flooder = TestDevice(oneTimePrekeyCount: 1)
        let (flood, _) = try await flooder.connect(to: strict)
        try await flooder.register(flood, as: "+15553441")
        for _ in 0..<SignalingLimits().noticeBurst { _ = try? await flood.leaveNotice(for: "+15553440", sealed: [1]) }
        await Self.expectRefused(.rateLimited) { try await flood.leaveNotice(for: "+15553440", sealed: [1]) }
        await flood.close()
        await target.close()
        try await strict.stop()
    }

    private static func expectRefused(
        _ code: SignalingErrorCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("not refused; expected \(code)", sourceLocation: sourceLocation)
        } catch let error as ServerConnectionError {
            guard case .server(code: code, _) = error else {
                Issue.record("refused with \(error), expected \(code)", sourceLocation: sourceLocation)
                return
            }
        } catch {
            Issue.record("failed with \(error), expected \(code)", sourceLocation: sourceLocation)
        }
    }
}
