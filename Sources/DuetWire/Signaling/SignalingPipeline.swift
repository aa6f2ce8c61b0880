import NIOCore

// The signaling wire as NIO channel handlers, shared by the client and the server so both
// read and write frames by one implementation (docs/server.md "Framing in the pipeline").
// The rules stay in `FrameDecoder`, which has no NIO in it; these handlers only apply them
// to `ByteBuffer`s. A pipeline with them hands its reader typed messages:
//
//   bytes → SignalingFrameDecoder → frame body → SignalingMessageDecoder → Result<Message, …>
//   bytes ← SignalingFrameEncoder ← frame body ← SignalingMessageEncoder ← Message

/// Cuts the inbound byte stream into frame bodies, by `FrameDecoder`'s rules. A prefix no
/// frame may have is thrown as `FrameDecoder.Failure`: `ByteToMessageHandler` passes it on as
/// the pipeline's error (an `NIOAsyncChannel` reader sees it thrown after the frames before
/// it) and reads nothing more, as the stream cannot be resynchronised after a bad length.
public struct SignalingFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= FrameDecoder.prefixLength else { return .needMoreData }
        // Checked from the prefix alone, so an oversized frame's body is never buffered.
        let length = try FrameDecoder.bodyLength(prefix: buffer.readableBytesView.prefix(FrameDecoder.prefixLength))
        guard buffer.readableBytes >= FrameDecoder.prefixLength + length,
            let body = buffer.getSlice(at: buffer.readerIndex + FrameDecoder.prefixLength, length: length)
        else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: FrameDecoder.prefixLength + length)
        context.fireChannelRead(Self.wrapInboundOut(body))
        return .continue
    }
    // `decodeLast` is NIO's default: the frames still whole are read, and a partial frame
    // left when the peer closes is dropped, as it can never complete.
}

/// Puts the length prefix in front of each outbound frame body. A body no frame may carry
/// fails its write with `FrameDecoder.Failure` (`MessageToByteHandler` also passes the error
/// down the pipeline, which ends an async reader: a peer cannot read past a bad frame either).
public struct SignalingFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeBytes(try FrameDecoder.prefix(forBodyOf: data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}

/// A message that travels as one signaling frame's JSON body: what a client sends
/// (`ClientRequest`) and what a server sends (`ServerFrame`).
public protocol SignalingFrameMessage: Sendable {
    static func decode(frameBody: [UInt8]) throws(SignalingDecodingError) -> Self
    var frameBody: [UInt8] { get }
}

extension ClientRequest: SignalingFrameMessage {
    public static func decode(frameBody: [UInt8]) throws(SignalingDecodingError) -> ClientRequest {
        try SignalingCodec.decodeClientRequest(frameBody)
    }

    public var frameBody: [UInt8] { SignalingCodec.encode(self) }
}

extension ServerFrame: SignalingFrameMessage {
    public static func decode(frameBody: [UInt8]) throws(SignalingDecodingError) -> ServerFrame {
        try SignalingCodec.decodeServerFrame(frameBody)
    }

    public var frameBody: [UInt8] { SignalingCodec.encode(self) }
}

/// Reads each frame body as a `Message`. A body that is not one is handed on as a failure,
/// not thrown: unlike a bad length, it leaves the stream in step, and each side decides what
/// it costs (the server answers it and counts a violation; a logged-in client fails the one
/// request it answers).
public final class SignalingMessageDecoder<Message: SignalingFrameMessage>: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = Result<Message, SignalingDecodingError>

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let body = Array(Self.unwrapInboundIn(data).readableBytesView)
        let message = Result { () throws(SignalingDecodingError) in try Message.decode(frameBody: body) }
        context.fireChannelRead(Self.wrapInboundOut(message))
    }
}

/// Writes each outbound `Message` as its JSON frame body.
public final class SignalingMessageEncoder<Message: SignalingFrameMessage>: ChannelOutboundHandler {
    public typealias OutboundIn = Message
    public typealias OutboundOut = ByteBuffer

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let body = context.channel.allocator.buffer(bytes: Self.unwrapOutboundIn(data).frameBody)
        context.write(Self.wrapOutboundOut(body), promise: promise)
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Adds the framing and the reading of `Inbound` messages; what is written is frame
    /// bodies, already encoded (the server encodes a notice once for many connections).
    public func addSignalingHandlers<Inbound: SignalingFrameMessage>(receiving: Inbound.Type) throws {
        try addHandler(ByteToMessageHandler(SignalingFrameDecoder()))
        try addHandler(MessageToByteHandler(SignalingFrameEncoder()))
        try addHandler(SignalingMessageDecoder<Inbound>())
    }

    /// Adds the framing, the reading of `Inbound` messages and the writing of `Outbound` ones.
    public func addSignalingHandlers<Inbound: SignalingFrameMessage, Outbound: SignalingFrameMessage>(
        receiving: Inbound.Type, sending: Outbound.Type
    ) throws {
        try addSignalingHandlers(receiving: Inbound.self)
        try addHandler(SignalingMessageEncoder<Outbound>())
    }
}
