import DuetClient
import DuetCrypto
import DuetServer
import DuetWire
import Foundation
import Testing

@Suite("Call signals through the hub")
struct CallSignalingTests {
    @Test func aSignalReachesTheCalleeStampedWithTheCallersNumber() async throws {
        let server = try await TestServer.start()
        let alice = TestDevice(), bob = TestDevice()
        let (a, aEvents) = try await alice.connect(to: server)
        try await alice.register(a, as: "+15551001")
        let (b, bEvents) = try await bob.connect(to: server)
        try await bob.register(b, as: "+15551002")

        let payload: [UInt8] = (0..<300).map { UInt8($0 & 0xff) }
        try await a.sendCallSignal(to: "+15551002", callID: "call-1", kind: "invite", payload: payload)
        let event = await bEvents.waitFor { if case .callSignal = $0 { true } else { false } }
        #expect(event == .callSignal(from: "+15551001", callID: "call-1", kind: "invite", payload: payload))

        // And back: the answer carries Bob's number.
        try await b.sendCallSignal(to: "+15551001", callID: "call-1", kind: "answer", payload: [9])
        let answer = await aEvents.waitFor { if case .callSignal = $0 { true } else { false } }
        #expect(answer == .callSignal(from: "+15551002", callID: "call-1", kind: "answer", payload: [9]))
        await a.close()
        await b.close()
        try await server.stop()
    }

    /// Several signals in one request (a group call member's sender key to everyone): each
    /// online recipient gets its own, stamped with the sender's number, and the reply names
    /// every recipient refused with the reason one `callSignal` would have given.
    @Test func aBatchReachesEachRecipientAndNamesThoseRefused() async throws {
        let server = try await TestServer.start()
        let alice = TestDevice(), bob = TestDevice(), carol = TestDevice()
        let (a, _) = try await alice.connect(to: server)
        try await alice.register(a, as: "+15551031")
        let (b, bEvents) = try await bob.connect(to: server)
        try await bob.register(b, as: "+15551032")
        let (c, cEvents) = try await carol.connect(to: server)
        try await carol.register(c, as: "+15551033")

        let outcomes = await a.sendCallSignals(
            callID: "g-1", kind: "sender-key",
            [
                (to: "+15551032", payload: [2]), (to: "+15551033", payload: [3]), (to: "+15559999", payload: [9]),
                (to: "bob", payload: [9]), (to: "+15551032", payload: [UInt8](repeating: 7, count: Signaling.maximumCallPayload + 1))
            ])
        let codes = outcomes.map { Self.code($0.failure) }
        #expect(outcomes.map(\.to) == ["+15551032", "+15551033", "+15559999", "bob", "+15551032"])
        #expect(codes == [nil, nil, .unknownNumber, .invalidNumber, .payloadTooLarge])
        let toBob = await bEvents.waitFor { if case .callSignal = $0 { true } else { false } }
        #expect(toBob == .callSignal(from: "+15551031", callID: "g-1", kind: "sender-key", payload: [2]))
        let toCarol = await cEvents.waitFor { if case .callSignal = $0 { true } else { false } }
        #expect(toCarol == .callSignal(from: "+15551031", callID: "g-1", kind: "sender-key", payload: [3]))

        // More signals than a group has members (the client never sends that many in one
        // request): refused whole, before anything is handed on.
        let raw = try await RawClient(server.address)
        _ = try await raw.authenticate(as: alice.identity, fingerprint: server.fingerprint)
        let tooMany = (0...Signaling.maximumGroupMembers).map { _ in
            Signaling.CallSignalBatch.Addressed(to: "+15551032", payload: Base64Bytes([1]))
        }
        try await raw.send(ClientRequest(id: 2, message: .callSignals(.init(callID: "g-1", kind: "sender-key", signals: tooMany))))
        #expect(try await raw.receiveError() == .invalidMessage)
        raw.close()
        // Bob got the one good signal meant for him, then the next one sent: nothing refused
        // (unknown, invalid, oversized or in the refused request) reached him.
        _ = await a.sendCallSignals(callID: "g-1", kind: "sender-key", [(to: "+15551032", payload: [42])])
        _ = await bEvents.waitFor { $0 == .callSignal(from: "+15551031", callID: "g-1", kind: "sender-key", payload: [42]) }
        let toBobAll = await bEvents.events.compactMap { event -> [UInt8]? in
            if case let .callSignal(_, _, _, payload) = event { payload } else { nil }
        }
        #expect(toBobAll == [[2], [42]])
        // A stranger with no number cannot send one either.
        let (stranger, _) = try await TestDevice().connect(to: server)
        let strangers = await stranger.sendCallSignals(callID: "g-1", kind: "sender-key", [(to: "+15551032", payload: [1])])
        #expect(strangers.map { Self.code($0.failure) } == [.notRegistered])
        for connection in [a, b, c, stranger] { await connection.close() }
        try await server.stop()
    }

    /// The server's error code in `failure`, if it is one.
    private static func code(_ failure: ServerConnectionError?) -> SignalingErrorCode? {
        if case let .server(code, _)? = failure { code } else { nil }
    }

    @Test func offlineAndUnknownCalleesAreToldApart() async throws {
        let server = try await TestServer.start()
        let alice = TestDevice(), bob = TestDevice()
        let (a, _) = try await alice.connect(to: server)
        try await alice.register(a, as: "+15551011")
        let (b, _) = try await bob.connect(to: server)
        try await bob.register(b, as: "+15551012")
        await b.close()

        // Bob's connection closes asynchronously; the hub may still hold it for a moment.
        let deadline = ContinuousClock.now + .seconds(10)
        var code: SignalingErrorCode?
        while ContinuousClock.now < deadline {
            do {
                try await a.sendCallSignal(to: "+15551012", callID: "c2", kind: "invite", payload: [1])
                try await Task.sleep(for: .milliseconds(20))
            } catch let ServerConnectionError.server(c, _) {
                code = c
                break
            }
        }
        #expect(code == .unavailable)
        await expectServerError(.unknownNumber) { try await a.sendCallSignal(to: "+15559999", callID: "c2", kind: "invite", payload: [1]) }
        await expectServerError(.invalidNumber) { try await a.sendCallSignal(to: "bob", callID: "c2", kind: "invite", payload: [1]) }
        await expectServerError(.invalidToken) { try await a.sendCallSignal(to: "+15551012", callID: "a:b", kind: "invite", payload: [1]) }
        await expectServerError(.invalidToken) { try await a.sendCallSignal(to: "+15551012", callID: "c2", kind: "", payload: [1]) }
        await expectServerError(.payloadTooLarge) {
            try await a.sendCallSignal(
                to: "+15551011", callID: "c2", kind: "invite",
                payload: [UInt8](repeating: 7, count: Signaling.maximumCallPayload + 1))
        }
        await a.close()
        try await server.stop()
    }

    @Test func unregisteredAndUnauthenticatedSendersAreRefused() async throws {
        let server = try await TestServer.start()
        let bob = TestDevice()
        let (b, bEvents) = try await bob.connect(to: server)
        try await bob.register(b, as: "+15551022")

        let (stranger, _) = try await TestDevice().connect(to: server)
        await expectServerError(.notRegistered) {
            try await stranger.sendCallSignal(to: "+15551022", callID: "c3", kind: "invite", payload: [1])
        }
        await expectServerError(.notRegistered) { _ = try await stranger.relayCredentials(callID: "c3") }

        let raw = try await RawClient(server.address)
        guard case .challenge? = try await raw.receive()?.message else {
            Issue.record("no challenge")
            return
        }
        try await raw.send(
            ClientRequest(id: 4, message: .callSignal(.init(to: "+15551022", callID: "c3", kind: "invite", payload: Base64Bytes([1])))))
        #expect(try await raw.receiveError() == .notAuthenticated)
        raw.close()

        try await b.ping()
        #expect(await !bEvents.contains { if case .callSignal = $0 { true } else { false } })
        await stranger.close()
        await b.close()
        try await server.stop()
    }

    @Test func aSenderCannotChooseItsFromNumber() async throws {
        let server = try await TestServer.start()
        let mallory = TestDevice(), bob = TestDevice()
        let (m, _) = try await mallory.connect(to: server)
        try await mallory.register(m, as: "+15551031")
        await m.close()
        let (b, bEvents) = try await bob.connect(to: server)
        try await bob.register(b, as: "+15551032")

        // Mallory writes her own JSON with a "from" field claiming to be someone else.
        let raw = try await RawClient(server.address)
        guard case .authenticated? = try await raw.authenticate(as: mallory.identity, fingerprint: server.fingerprint)?.message else {
            Issue.record("expected authenticated")
            return
        }
        try await raw.send(
            #"{"type":"callSignal","id":7,"to":"+15551032","from":"+15550000","callID":"c4","kind":"invite","payload":"AQI="}"#)
        var reply: ServerFrame?
        while let frame = try await raw.receive() {
            if frame.id == 7 {
                reply = frame
                break
            }
        }
        #expect(reply?.message == .callSignalSent)
        let event = await bEvents.waitFor { if case .callSignal = $0 { true } else { false } }
        #expect(event == .callSignal(from: "+15551031", callID: "c4", kind: "invite", payload: [1, 2]))
        raw.close()
        await b.close()
        try await server.stop()
    }
}
