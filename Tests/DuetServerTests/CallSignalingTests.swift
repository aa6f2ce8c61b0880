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
