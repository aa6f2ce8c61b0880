import DuetWire
import NIOCore
import NIOEmbedded
import Testing

/// The signaling handlers both sides put in their pipelines, on an `EmbeddedChannel`: the wire
/// codec without a network.
@Suite("Signaling pipeline handlers")
struct SignalingPipelineTests {
    typealias Decoded<Message: SignalingFrameMessage> = Result<Message, SignalingDecodingError>

    /// A server's pipeline: requests in, frame bodies out.
    private func serverChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addSignalingHandlers(receiving: ClientRequest.self)
        return channel
    }

    /// A client's pipeline: server frames in, requests out.
    private func clientChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addSignalingHandlers(receiving: ServerFrame.self, sending: ClientRequest.self)
        return channel
    }

    private func framed(_ request: ClientRequest) throws -> [UInt8] {
        try FrameDecoder.frame(SignalingCodec.encode(request))
    }

    @Test func framesSplitAcrossReadsReachTheReaderAsTypedRequests() throws {
        let channel = try serverChannel()
        let requests = [ClientRequest(id: 1, message: .ping), ClientRequest(id: 2, message: .lookup(.init(number: "+15550001")))]
        for byte in try requests.flatMap(framed) {  // worst case: one byte per read
            try channel.writeInbound(channel.allocator.buffer(bytes: [byte]))
        }
        var read: [ClientRequest] = []
        while let decoded = try channel.readInbound(as: Decoded<ClientRequest>.self) { read.append(try decoded.get()) }
        #expect(read == requests)
        #expect(try channel.finish().isClean)
    }

    @Test func severalFramesInOneReadAreEachDelivered() throws {
        let channel = try clientChannel()
        let frames = SignalingSamples.frames
        try channel.writeInbound(channel.allocator.buffer(bytes: try frames.flatMap { try FrameDecoder.frame(SignalingCodec.encode($0)) }))
        var read: [ServerFrame] = []
        while let decoded = try channel.readInbound(as: Decoded<ServerFrame>.self) { read.append(try decoded.get()) }
        #expect(read == frames)
    }

    @Test func oversizedFrameIsRefusedFromItsHeaderAloneAfterTheFramesBeforeIt() throws {
        let channel = try serverChannel()
        let good = try framed(ClientRequest(id: 1, message: .ping))
        #expect(throws: FrameDecoder.Failure.frameTooLarge(length: 65537, maximum: 65536)) {
            try channel.writeInbound(channel.allocator.buffer(bytes: good + [0x00, 0x01, 0x00, 0x01]))
        }
        #expect(try channel.readInbound(as: Decoded<ClientRequest>.self).map { try $0.get() } == ClientRequest(id: 1, message: .ping))
        #expect(try channel.readInbound(as: Decoded<ClientRequest>.self) == nil)
        // Nothing after a bad length is read: the stream cannot be resynchronised.
        #expect(throws: ByteToMessageDecoderError.self) { try channel.writeInbound(channel.allocator.buffer(bytes: good)) }
        #expect(try channel.readInbound(as: Decoded<ClientRequest>.self) == nil)
    }

    @Test func emptyFrameIsRefused() throws {
        let channel = try clientChannel()
        #expect(throws: FrameDecoder.Failure.emptyFrame) { try channel.writeInbound(channel.allocator.buffer(bytes: [0, 0, 0, 0])) }
    }

    @Test func maximumSizeFrameIsAccepted() throws {
        let channel = try serverChannel()
        try channel.writeInbound(channel.allocator.buffer(bytes: try FrameDecoder.frame([UInt8](repeating: 0x20, count: 65536))))
        // Whitespace is no JSON object: the frame arrives, as a body that is not a message.
        #expect(try channel.readInbound(as: Decoded<ClientRequest>.self) == .failure(.invalidJSON))
    }

    @Test func malformedJSONIsHandedOnAsAFailureAndTheStreamGoesOn() throws {
        let channel = try serverChannel()
        let bodies = [Array("{not json".utf8), Array(#"{"type":"lookup","id":10}"#.utf8)]
        try channel.writeInbound(channel.allocator.buffer(bytes: try bodies.flatMap(FrameDecoder.frame)))
        try channel.writeInbound(channel.allocator.buffer(bytes: try framed(ClientRequest(id: 11, message: .ping))))
        #expect(try channel.readInbound(as: Decoded<ClientRequest>.self) == .failure(.invalidJSON))
        guard case let .failure(error)? = try channel.readInbound(as: Decoded<ClientRequest>.self) else {
            Issue.record("expected a malformed lookup")
            return
        }
        #expect(error.code == .invalidMessage)
        #expect(error.id == 10)
        #expect(try channel.readInbound(as: Decoded<ClientRequest>.self) == .success(ClientRequest(id: 11, message: .ping)))
    }

    @Test func partialFrameAtTheEndIsDroppedQuietly() throws {
        let channel = try serverChannel()
        try channel.writeInbound(channel.allocator.buffer(bytes: Array(try framed(ClientRequest(id: 1, message: .ping)).dropLast())))
        #expect(try channel.readInbound(as: Decoded<ClientRequest>.self) == nil)
        #expect(try channel.finish(acceptAlreadyClosed: false).isClean)
    }

    @Test func requestsAreWrittenAsPrefixedFrames() throws {
        let channel = try clientChannel()
        let request = ClientRequest(id: 7, message: .watch(.init(numbers: ["+15550001"])))
        try channel.writeOutbound(request)
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(written.readableBytesView) == (try framed(request)))
    }

    @Test func frameBodiesAreWrittenWithTheirPrefix() throws {
        let channel = try serverChannel()
        let body = SignalingCodec.encode(ServerFrame(id: 3, message: .pong))
        try channel.writeOutbound(channel.allocator.buffer(bytes: body))
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(written.readableBytesView) == (try FrameDecoder.frame(body)))
    }

    @Test func oversizedOrEmptyBodiesAreNotWritten() throws {
        let oversized = try serverChannel()
        #expect(throws: FrameDecoder.Failure.frameTooLarge(length: 65537, maximum: 65536)) {
            try oversized.writeOutbound(oversized.allocator.buffer(bytes: [UInt8](repeating: 0x20, count: 65537)))
        }
        #expect(try oversized.readOutbound(as: ByteBuffer.self) == nil)
        let empty = try serverChannel()
        #expect(throws: FrameDecoder.Failure.emptyFrame) { try empty.writeOutbound(empty.allocator.buffer(bytes: [])) }
        #expect(try empty.readOutbound(as: ByteBuffer.self) == nil)
    }
}
