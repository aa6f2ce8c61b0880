import DuetClient
import DuetCrypto
import DuetServer
import DuetWire
import Foundation
import NIOCore
import NIOPosix
import Testing

@Suite("Pinning, bad input and presence")
struct RobustnessTests {
    @Test func refusesAServerWhoseCertificateIsNotThePinnedOne() async throws {
        let server = try await TestServer.start()
        let pinned = CertificateFingerprint(digest: [UInt8](repeating: 0xAB, count: 32))!
        let connection = try ServerConnection(server: server.address, identity: .generate(), pinnedFingerprint: pinned.description)
        do {
            try await connection.connect()
            Issue.record("connected despite a different certificate")
        } catch let error {
            #expect(error == .certificateChanged(server: server.address.description, expected: pinned, actual: server.fingerprint))
            #expect(error.description.contains("different certificate"))
            #expect(error.description.contains("accept it deliberately"))
            #expect(error.description.contains(server.fingerprint.description))
        }
        #expect(throws: ServerConnectionError.invalidPinnedFingerprint("nonsense")) {
            try ServerConnection(server: server.address, identity: .generate(), pinnedFingerprint: "nonsense")
        }
        try await server.stop()
    }

    @Test func badFramesGetErrorsAndOthersKeepBeingServed() async throws {
        let server = try await TestServer.start()
        let (bystander, _) = try await TestDevice().connect(to: server)

        let raw = try await RawClient(server.address)
        guard case .authenticated? = try await raw.authenticate(as: .generate(), fingerprint: server.fingerprint)?.message else {
            Issue.record("expected authenticated")
            return
        }
        try await raw.send("{not json")
        #expect(try await raw.receiveError() == .invalidJSON)
        try await bystander.ping()
        try await raw.send(#"{"type":"dance","id":9}"#)
        #expect(try await raw.receiveError() == .unknownType)
        try await raw.send(#"{"type":"lookup","id":10}"#)
        #expect(try await raw.receiveError() == .invalidMessage)
        try await bystander.ping()
        // Still usable after three errors.
        try await raw.send(ClientRequest(id: 11, message: .ping))
        #expect(try await raw.receive() == ServerFrame(id: 11, message: .pong))
        // An oversized frame cannot be skipped: error, then the connection is closed.
        try await raw.sendRaw([0x00, 0x01, 0x11, 0x70] + [UInt8](repeating: 0x20, count: 100))
        #expect(try await raw.receiveError() == .frameTooLarge)
        #expect(try await raw.isClosedByServer())
        try await bystander.ping()
        await bystander.close()
        try await server.stop()
    }

    @Test func closesAConnectionThatKeepsMisbehaving() async throws {
        let server = try await TestServer.start()
        let raw = try await RawClient(server.address)
        _ = try await raw.receive()
        for _ in 0..<5 { try await raw.send(ClientRequest(id: 1, message: .ping)) }
        var codes: [SignalingErrorCode] = []
        while let code = try await raw.receiveError() { codes.append(code) }
        #expect(codes == Array(repeating: .notAuthenticated, count: 5) + [.tooManyErrors])
        try await server.stop()
    }

    @Test func randomBytesDoNotStopTheServer() async throws {
        let server = try await TestServer.start()
        var rng = SystemRandomNumberGenerator()
        for round in 0..<5 {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: server.address.host, port: server.address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let junk = (0..<(512 * (round + 1))).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // The server may reset the connection mid-write: that is an answer too.
            try? await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(bytes: junk))
                for try await _ in inbound {}
            }
        }
        // Random bytes inside TLS too.
        let raw = try await RawClient(server.address)
        _ = try await raw.receive()
        try await raw.sendRaw((0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) })
        #expect(try await raw.isClosedByServer())

        let device = TestDevice()
        let (connection, _) = try await device.connect(to: server)
        #expect(try await device.register(connection, as: "+15550400").number == "+15550400")
        await connection.close()
        try await server.stop()
    }

    @Test func watchersSeeContactsComeOnlineAndGoOffline() async throws {
        let server = try await TestServer.start()
        let alice = TestDevice(), bob = TestDevice()
        let (a, _) = try await alice.connect(to: server)
        try await alice.register(a, as: "+15550500")
        let (b, bobEvents) = try await bob.connect(to: server)
        try await bob.register(b, as: "+15550501")
        #expect(try await b.watch(["+15550500", "+15550599"]) == ["+15550500": true, "+15550599": false])

        await a.close()
        #expect(await bobEvents.waitFor { $0 == .presence(number: "+15550500", online: false) } != nil)
        #expect(try await b.lookup(number: "+15550500").online == false)
        let (a2, _) = try await alice.connect(to: server)
        #expect(await bobEvents.waitFor { $0 == .presence(number: "+15550500", online: true) } != nil)
        #expect(try await b.lookup(number: "+15550500").online == true)
        await a2.close()
        await b.close()
        try await server.stop()
    }

    @Test func aDroppedConnectionIsReportedAndRetried() async throws {
        let server = try await TestServer.start()
        let device = TestDevice()
        let (connection, events) = try await device.connect(
            to: server, reconnect: .init(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200)))
        try await server.stop()
        #expect(await events.waitFor { if case .disconnected = $0 { true } else { false } } != nil)
        #expect(await events.waitFor { if case .reconnecting(attempt: 2, _) = $0 { true } else { false } } != nil)
        await expectNotConnected { try await connection.ping() }
        await connection.close()
    }

    private func expectNotConnected(_ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected notConnected")
        } catch let error as ServerConnectionError {
            #expect(error == .notConnected)
        } catch { Issue.record("unexpected \(error)") }
    }
}
