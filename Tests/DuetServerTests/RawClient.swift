import DuetCrypto
import DuetWire
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A misbehaving peer: real TLS, then whatever bytes a test wants to send, reading back the
/// server's frames. What ServerConnection never does on purpose.
final class RawClient: @unchecked Sendable {
    // @unchecked: used from one test task at a time.
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let writer: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var decoder = FrameDecoder()

    /// `receiveBuffer`: the socket's kernel receive buffer in bytes (SO_RCVBUF), small for a
    /// peer that should not soak up much of what the server sends; the system's default if nil.
    init(_ address: HostPort, receiveBuffer: Int? = nil) async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let context = try NIOSSLContext(configuration: tls)
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let receiveBuffer { bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: receiveBuffer) }
        channel =
            try await bootstrap
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        // Taking the streams out of the channel: this test peer closes the channel itself.
        iterator = channel.inbound.makeAsyncIterator()
        writer = channel.outbound
    }

    func sendRaw(_ bytes: [UInt8]) async throws {
        try await writer.write(ByteBuffer(bytes: bytes))
    }

    func send(_ json: String) async throws {
        try await sendRaw(FrameDecoder.frame(Array(json.utf8)))
    }

    func send(_ request: ClientRequest) async throws {
        try await sendRaw(FrameDecoder.frame(SignalingCodec.encode(request)))
    }

    /// The next frame, or nil once the server has closed the connection.
    func receive() async throws -> ServerFrame? {
        while true {
            if let body = try decoder.nextFrame() { return try SignalingCodec.decodeServerFrame(body) }
            do {
                guard let buffer = try await iterator.next() else { return nil }
                decoder.append(buffer.readableBytesView)
            } catch {
                return nil
            }
        }
    }

    /// The next `error` reply's code, skipping anything else.
    func receiveError() async throws -> SignalingErrorCode? {
        while let frame = try await receive() {
            if case let .error(error) = frame.message { return error.code }
        }
        return nil
    }

    /// True once the server has closed the connection (after reading whatever was left).
    func isClosedByServer() async throws -> Bool {
        while try await receive() != nil {}
        return true
    }

    /// Reads the challenge and answers it as `identity`, signing with `signer` (a different
    /// key makes a bad signature) over `fingerprint`.
    func authenticate(as identity: IdentityKeyPair, signer: IdentityKeyPair? = nil, fingerprint: CertificateFingerprint) async throws
        -> ServerFrame?
    {
        guard case let .challenge(challenge)? = try await receive()?.message else { return nil }
        let transcript = AuthenticationTranscript.message(nonce: challenge.nonce.bytes, certificate: fingerprint)
        try await send(
            ClientRequest(
                id: 1,
                message: .authenticate(
                    .init(
                        identityKey: Base64Bytes(identity.publicKey.rawRepresentation),
                        signature: Base64Bytes((signer ?? identity).signature(for: transcript))))))
        return try await receive()
    }

    /// Closes the connection. The writer is finished first: NIO traps when a writer taken out
    /// of its channel is released unfinished while the channel is still open.
    func close() {
        writer.finish()
        channel.channel.close(promise: nil)
    }
}
