import DuetWire
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// How a device reaches its TURN server (docs/networking.md "The paths").
public enum RelayTransport: String, Sendable, Equatable {
    /// From the call's own media socket.
    case udp
    /// A TCP connection (RFC 8656 §3.1), for networks that let no UDP out.
    case tcp
    /// TLS over TCP, for networks that let only TLS out.
    case tls
}

/// Why a stream to a relay could not be used.
enum RelayLinkError: Error, CustomStringConvertible {
    case certificateNotPinned(expected: CertificateFingerprint, shown: CertificateFingerprint)

    var description: String {
        switch self {
        case let .certificateNotPinned(expected, shown):
            "the relay's TLS certificate is not the one named (expected \(expected), shown \(shown)); it was not used"
        }
    }
}

/// The way to a TURN server for one call: UDP from the call's media socket, or a TCP or TLS
/// stream of its own. The relay client's messages are the same on all three; only the socket
/// and the framing (`TURNStreamFramer`) differ. What a stream receives reaches the call engine
/// as if the server had sent it a datagram, so relayed media has one receive path.
final class RelayLink: Sendable {
    let transport: RelayTransport
    let server: TransportAddress
    private let way: Way

    private enum Way: Sendable {
        case datagram(MediaSocket)
        case stream(any Channel)
    }

    private init(transport: RelayTransport, server: TransportAddress, way: Way) {
        self.transport = transport
        self.server = server
        self.way = way
    }

    /// UDP to `server` from the call's socket (whose handler already receives the answers).
    static func datagram(_ socket: MediaSocket, to server: TransportAddress) -> RelayLink {
        RelayLink(transport: .udp, server: server, way: .datagram(socket))
    }

    /// A TCP (or TLS) connection to `server`; each frame received is handed to `deliver` as a
    /// datagram from `server`. TLS trusts only the pinned certificate (the Duet server's relay
    /// answers TLS with its signaling certificate; an external `turns:` relay shows the one the
    /// user named) and returns once the handshake is done, so a relay showing another
    /// certificate fails here, by name, rather than as an Allocate nobody answered.
    static func stream(
        to server: TransportAddress, tls: Bool, pinned: CertificateFingerprint?,
        deliver: @escaping MediaSocket.Handler
    ) async throws -> RelayLink {
        let context = tls ? try PinnedTLS.clientContext() : nil
        let shown = Mutex<CertificateFingerprint?>(nil)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(3))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(
                            PinnedTLS.clientHandler(context: context, pinned: pinned) { presented in shown.withLock { $0 = presented } })
                        try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: channel.eventLoop.makePromise()))
                    }
                    try channel.pipeline.syncOperations.addHandler(StreamReceiver(server: server, deliver: deliver))
                }
            }
            .connect(to: try server.socketAddress).get()
        if tls {
            do {
                try await channel.pipeline.handler(type: HandshakeWaiter.self).flatMap { $0.promise.futureResult }.get()
            } catch {
                channel.close(promise: nil)
                if let presented = shown.withLock({ $0 }), let pinned, presented != pinned {
                    throw RelayLinkError.certificateNotPinned(expected: pinned, shown: presented)
                }
                throw error
            }
        }
        return RelayLink(transport: tls ? .tls : .tcp, server: server, way: .stream(channel))
    }

    /// Sends one TURN message (or ChannelData) to the server.
    func send(_ bytes: [UInt8]) {
        switch way {
        case let .datagram(socket):
            socket.send(bytes, to: server)
        case let .stream(channel):
            channel.writeAndFlush(channel.allocator.buffer(bytes: TURNStreamFramer.frame(bytes)), promise: nil)
        }
    }

    /// False once a stream closed (the relay went away, or the network under it); a datagram
    /// way is always open.
    var isOpen: Bool {
        switch way {
        case .datagram: true
        case let .stream(channel): channel.isActive
        }
    }

    /// Closes a stream; the call's socket is the call's to close.
    func close() {
        if case let .stream(channel) = way { channel.close(promise: nil) }
    }

    /// Completes its promise when the TLS handshake is done, fails it if the connection errs
    /// or closes first. Made on the channel's event loop and used only there.
    private final class HandshakeWaiter: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<Void>
        private var done = false

        init(promise: EventLoopPromise<Void>) { self.promise = promise }

        private func complete(_ result: Result<Void, any Error>) {
            guard !done else { return }
            done = true
            promise.completeWith(result)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent { complete(.success(())) }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            complete(.failure(error))
            context.fireErrorCaught(error)
        }

        func channelInactive(context: ChannelHandlerContext) {
            complete(.failure(ChannelError.eof))
            context.fireChannelInactive()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            complete(.failure(ChannelError.eof))
        }
    }

    /// Frames what the stream brings and hands each frame on; a stream that stops speaking
    /// TURN is closed (nothing after it could be framed).
    /// Made on the channel's event loop and used only there (so not Sendable).
    private final class StreamReceiver: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let server: TransportAddress
        let deliver: MediaSocket.Handler
        var framer = TURNStreamFramer()

        init(server: TransportAddress, deliver: @escaping MediaSocket.Handler) {
            self.server = server
            self.deliver = deliver
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            framer.append(unwrapInboundIn(data).readableBytesView)
            do {
                while let frame = try framer.next() { deliver(MediaSocket.Datagram(bytes: frame, source: server)) }
            } catch {
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
