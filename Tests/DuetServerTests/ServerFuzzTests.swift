import DuetClient
import DuetCrypto
import DuetFuzzing
import DuetMedia
import DuetWire
import Testing

@testable import DuetServer

/// The whole server under bad input, over real sockets: mutated datagrams of every kind the
/// media port demultiplexes (STUN Binding, TURN requests signed with real relay credentials,
/// ChannelData, DTLS ClientHellos, RTP, junk) and mutated signaling frames (JSON trees and
/// bytes, lying length prefixes; before and after authentication) on many TLS connections.
/// Whatever the server answers decodes, and afterwards it still answers a STUN Binding request
/// and still logs a real client in.
@Suite("Server fuzz")
struct ServerFuzzTests {
    @Test func survivesMutatedDatagramsAndFrames() async throws {
        let server = try await TestServer.start()
        let media = MediaPortTests.mediaAddress(server)
        let owner = TestDevice()
        let (connection, _) = try await owner.connect(to: server)
        try await owner.register(connection, as: "+15559001")
        let (datagrams, integrity) = try await Self.datagramSamples(server: server, media: media, connection: connection)
        let sockets = [try await UDPTestSocket.bind(), try await UDPTestSocket.bind(), try await UDPTestSocket.bind(host: "127.0.0.2")]
        let udp = await FuzzTarget("server media port", defaultIterations: 3000, cost: 10).runAsync(
            samples: datagrams, mutator: Mutator(maximumLength: 1400), fixup: { STUNRepair.reseal($0, integrity: { _ in integrity }) }
        ) { input, random in
            try await sockets.randomElement(using: &random)!.send(input, to: media)
            if Int.random(in: 0..<100, using: &random) == 0 { try await Task.sleep(for: .milliseconds(2)) }
            return .accepted
        }
        #expect(udp.isClean, "\(udp)")
        for socket in sockets {
            for (_, bytes) in socket.drain() {
                #expect(
                    MediaPacketKind(datagram: bytes) == .dtls || (try? STUNMessage(parsing: bytes)) != nil
                        || (try? ChannelData(parsing: bytes)) != nil,
                    "the media port sent \(bytes.hex)")
            }
        }

        let bodies = Self.frameSamples()
        let types = bodies.compactMap { try? SignalingCodec.decodeClientRequest($0).message.type }
        let tcp = await FuzzTarget("server signaling port", defaultIterations: 100, cost: 500).runAsync({ random in
            // Authenticate first or not; then a handful of frames, each a JSON-tree or byte mutation, framed (maybe lying).
            var input: [UInt8] = [Bool.random(using: &random) ? 1 : 0]
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let body =
                    Bool.random(using: &random)
                    ? JSONMutator.mutate(bodies.randomElement(using: &random)!, types: types, using: &random)
                    : Mutator(maximumLength: 2000).mutate(bodies, using: &random)
                var framed = (try? FrameDecoder.frame(body)) ?? body
                let original = framed
                if Int.random(in: 0..<8, using: &random) == 0 {
                    Mutator().apply(.lengthLie, to: &framed, samples: [original], using: &random)
                }
                input += framed
            }
            return input
        }) { input, _ in
            try await Self.speak(input, to: server)
        }
        #expect(tcp.isClean, "\(tcp)")

        // Still serving: a Binding answered, a new device logs in and registers, the first one is still there.
        let fresh = try await UDPTestSocket.bind()
        #expect(try await MediaPortTests.reflexiveAddress(of: fresh, media: media) == fresh.address)
        let late = TestDevice()
        let (lateConnection, _) = try await late.connect(to: server)
        #expect(try await late.register(lateConnection, as: "+15559002").number == "+15559002")
        try await connection.ping()
        await fresh.close()
        for socket in sockets { await socket.close() }
        await lateConnection.close()
        await connection.close()
        try await server.stop()
    }

    /// One valid datagram of each kind, TURN ones signed with real credentials and the
    /// server's current nonce (learned from its 401).
    static func datagramSamples(server: TestServer, media: TransportAddress, connection: ServerConnection) async throws
        -> (samples: [[UInt8]], integrity: STUNIntegrity)
    {
        let credentials = try await connection.relayCredentials(callID: "fuzz-1")
        let integrity = STUNIntegrity.longTermCredential(
            username: credentials.username, realm: credentials.realm, password: credentials.password)
        let probe = try await UDPTestSocket.bind()
        defer { Task { await probe.close() } }
        let ask = MediaRouterFuzzTests.request(.allocate, [.requestedTransportUDP], signed: false, tag: 40)
        try await probe.send(ask, to: media)
        let challenge = try #require(
            await probe.receive(matching: { _, bytes in (try? STUNMessage(parsing: bytes))?.errorCode?.code == 401 }))
        let nonce = try #require(try STUNMessage(parsing: challenge.bytes).text(.nonce))
        func signed(_ method: STUNMessage.Method, _ attributes: [STUNAttribute], tag: UInt8) -> [UInt8] {
            var m = STUNMessage(
                method: method, messageClass: .request, transactionID: (0..<12).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(tag)) })
            m.attributes = attributes + [.text(.username, credentials.username), .text(.realm, credentials.realm), .text(.nonce, nonce)]
            return m.encoded(integrity: integrity, fingerprint: true)
        }
        // An IPv4 peer address is XORed with the magic cookie alone: any message can make the attribute.
        let peer = STUNMessage(method: .createPermission, messageClass: .request, transactionID: Array(repeating: 0, count: 12))
            .xorAddress(.xorPeerAddress, TransportAddress(ipv4: "127.0.0.1", port: 9)!)
        let samples =
            MediaRouterFuzzTests.turnSamples + (try MediaRouterFuzzTests.helloAndMedia()) + [
                signed(.allocate, [.requestedTransportUDP, .uint32(.lifetime, 600)], tag: 41),
                signed(.refresh, [.uint32(.lifetime, 600)], tag: 42),
                signed(.createPermission, [peer], tag: 43),
                signed(.channelBind, [.channelNumber(0x4002), peer], tag: 44)
            ]
        return (samples, integrity)
    }

    /// Signaling requests of many types, as the client's encoder writes them.
    static func frameSamples() -> [[UInt8]] {
        let key = Base64Bytes(Array(0..<32)), fingerprint = (0..<32).map { _ in "AB" }.joined(separator: ":")
        let requests: [ClientMessage] = [
            .ping, .listGroups, .lookup(.init(number: "+15559001")), .fetchBundle(.init(number: "+15559001")),
            .watch(.init(numbers: ["+15559001", "+15559003"])), .relayCredentials(.init(callID: "c-1")),
            .register(
                .init(
                    number: "+15559004", name: "Fuzz", invite: nil,
                    signedPrekey: .init(id: 1, publicKey: key, createdAt: 1_700_000_000, signature: Base64Bytes(Array(0..<64))),
                    oneTimePrekeys: [.init(id: 1, publicKey: key)])),
            .callSignal(.init(to: "+15559001", callID: "c-1", kind: "invite", payload: Base64Bytes([1, 2, 3]))),
            .createGroup(.init(name: "Fuzzers", members: ["+15559001"])),
            .startGroupCall(.init(group: "g12345678", callID: "gc-1", dtlsFingerprint: fingerprint)),
            .createMeeting(.init(open: true, record: false, name: "F", dtlsFingerprint: fingerprint, ssrc: 1)),
            .joinMeeting(.init(code: "abc-defg-hij", name: "G", dtlsFingerprint: fingerprint, ssrc: 2)),
            .authenticate(.init(identityKey: key, signature: Base64Bytes(Array(0..<64))))
        ]
        return requests.enumerated().map { SignalingCodec.encode(ClientRequest(id: UInt32($0.offset + 1), message: $0.element)) }
    }

    /// `stream` with bytes added so it ends at a frame boundary (or at a length the server
    /// refuses): a stream that stops inside a frame leaves the server waiting for the rest, as
    /// it should, and a ping sent after it would be read as part of that frame.
    static func completed(_ stream: [UInt8]) -> [UInt8] {
        var stream = stream
        while true {
            var decoder = FrameDecoder()
            decoder.append(stream)
            do { while try decoder.nextFrame() != nil {} } catch { return stream }
            let pending = decoder.bufferedByteCount
            guard pending > 0 else { return stream }
            guard pending >= 4 else {
                stream += Array(repeating: 0, count: 4 - pending)
                continue
            }
            let declared = stream.suffix(pending).prefix(4).reduce(0) { $0 << 8 | Int($1) }
            stream += Array(repeating: 0x20, count: 4 + declared - pending)
        }
    }

    /// One connection: authenticate (when the input's first byte says so), send the rest as
    /// it is, then read until a ping is answered or the server closes, within a bound. Every
    /// frame the server sends must decode.
    static func speak(_ input: [UInt8], to server: TestServer) async throws -> FuzzOutcome {
        let raw = try await RawClient(server.address)
        defer { raw.close() }
        if input.first == 1 {
            _ = try await raw.authenticate(as: .generate(), fingerprint: server.fingerprint)
        } else {
            _ = try await raw.receive()  // the challenge
        }
        try? await raw.sendRaw(Self.completed(Array(input.dropFirst())))
        try? await raw.send(ClientRequest(id: 0xF0F0, message: .ping))
        let answered = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                while let frame = try await raw.receive() {
                    if frame.id == 0xF0F0 { return true }
                }
                return false
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                raw.close()
                throw FuzzViolation("the server neither answered a ping nor closed within 10 s")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        return answered ? .accepted : .rejected
    }
}
