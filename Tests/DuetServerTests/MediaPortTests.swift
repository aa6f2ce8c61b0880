import DuetWire
import Foundation
import Testing

@testable import DuetServer

@Suite("Media port: STUN Binding and robustness")
struct MediaPortTests {
    static func bindingRequest() -> STUNMessage {
        var rng = SystemRandomNumberGenerator()
        return STUNMessage(method: .binding, messageClass: .request, transactionID: STUNMessage.randomTransactionID(using: &rng))
    }

    /// Sends a Binding request and returns the XOR-MAPPED-ADDRESS of the answer to it.
    static func reflexiveAddress(of socket: UDPTestSocket, media: TransportAddress, timeout: Duration = .seconds(10)) async throws
        -> TransportAddress?
    {
        let request = bindingRequest()
        try await socket.send(request.encoded(fingerprint: true), to: media)
        guard
            let (_, bytes) = await socket.receive(
                timeout: timeout,
                matching: { from, bytes in
                    from == media && (try? STUNMessage(parsing: bytes))?.transactionID == request.transactionID
                })
        else { return nil }
        let response = try STUNMessage(parsing: bytes)
        #expect(response.method == .binding)
        #expect(response.messageClass == .success)
        return try response.address(.xorMappedAddress)
    }

    static func mediaAddress(_ server: TestServer) -> TransportAddress {
        TransportAddress(ipv4: server.app.mediaAddress.host, port: UInt16(server.app.mediaAddress.port))!
    }

    @Test func aBindingRequestLearnsTheClientsOwnAddress() async throws {
        let server = try await TestServer.start()
        let socket = try await UDPTestSocket.bind()
        let mapped = try await Self.reflexiveAddress(of: socket, media: Self.mediaAddress(server))
        #expect(mapped == socket.address)
        await socket.close()
        try await server.stop()
    }

    @Test func randomDatagramsDoNotStopThePort() async throws {
        let server = try await TestServer.start()
        let media = Self.mediaAddress(server)
        let noise = try await UDPTestSocket.bind()
        var rng = SystemRandomNumberGenerator()
        for i in 0..<3000 {
            var bytes = (0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Bias towards what the demultiplexer looks at: STUN headers with the magic cookie
            // (and lengths that lie), ChannelData headers, TURN methods with junk attributes.
            switch i % 4 {
            case 0 where bytes.count >= 20:
                bytes[0] = UInt8.random(in: 0...3, using: &rng)
                bytes.replaceSubrange(4..<8, with: [0x21, 0x12, 0xA4, 0x42])
            case 1 where bytes.count >= 4:
                bytes[0] = UInt8.random(in: 0x40...0x4F, using: &rng)
            case 2 where bytes.count >= 24:
                let method = [STUNMessage.Method.allocate, .refresh, .createPermission, .channelBind, .send].randomElement(using: &rng)!
                var message = STUNMessage(
                    method: method, messageClass: method == .send ? .indication : .request,
                    transactionID: STUNMessage.randomTransactionID(using: &rng))
                message.attributes = [
                    STUNAttribute(
                        type: UInt16.random(in: 0...0x30, using: &rng), value: Array(bytes.prefix(Int.random(in: 0...40, using: &rng))))
                ]
                bytes = message.encoded(fingerprint: Bool.random(using: &rng))
            default:
                break
            }
            try await noise.send(bytes, to: media)
            if i % 200 == 0 { try await Task.sleep(for: .milliseconds(1)) }
        }
        // Still answering, to a fresh client and to the noisy one.
        let fresh = try await UDPTestSocket.bind()
        #expect(try await Self.reflexiveAddress(of: fresh, media: media) == fresh.address)
        _ = noise.drain()
        #expect(try await Self.reflexiveAddress(of: noise, media: media) == noise.address)
        await fresh.close()
        await noise.close()
        try await server.stop()
    }

    @Test func bindingAnswersCarryAValidFingerprintAndEchoTheTransaction() throws {
        let client = TransportAddress(ipv4: "192.0.2.7", port: 40000)!
        let request = Self.bindingRequest()
        let bytes = MediaRouter.bindingSuccess(to: request, from: client)
        // Parsing checks the FINGERPRINT.
        let response = try STUNMessage(parsing: bytes)
        #expect(response.transactionID == request.transactionID)
        #expect(response.attributes.last?.type == STUNAttribute.Kind.fingerprint.rawValue)
        #expect(try response.address(.xorMappedAddress) == client)
    }
}
