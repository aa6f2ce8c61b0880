import DuetWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// TURN over TCP and over TLS (RFC 8656 §3.1) on the media port's number, for devices whose
/// network lets no UDP out: one listener serves both, telling TLS from plain TURN by the first
/// byte (a TLS handshake record starts 0x16; STUN starts 0b00, ChannelData 0b01). Between
/// device and relay the stream carries what a datagram would (`TURNStreamFramer`); from the
/// relay to peers it stays UDP. TLS uses the server's signaling certificate, which devices
/// already pin. Each connection is a TURN client of the media loop like a UDP address is:
/// its frames become `MediaEvent.fromClient` (one at a time: the reader waits for the media
/// loop to take each), answers go back through a bounded outbox (a slow reader loses frames,
/// as UDP would, and never stalls the loop), and its allocation ends with the connection.
///
/// Bounds: `maximumConnections` at once, `maximumPerAddress` from one IP, a first frame within
/// `firstFrameTimeout`, at most one frame waiting in the framer and `outboxFrames` in the outbox.
struct RelayStreams: Sendable {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    static let maximumConnections = 256
    static let maximumPerAddress = 16
    static let firstFrameTimeout = Duration.seconds(10)
    static let outboxFrames = 512

    let listener: NIOAsyncChannel<Connection, Never>
    private let admissions = ConnectionAdmissions(maximum: RelayStreams.maximumConnections, perSource: RelayStreams.maximumPerAddress)

    /// Binds TCP on `host`:`port` (the media port's number, already bound for UDP).
    static func bind(host: String, port: Int, tls: NIOSSLContext?) async throws -> RelayStreams {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(TLSSniffer(tls: tls)) }
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return RelayStreams(listener: listener)
    }

    /// Accepts connections until the listener closes, each served by a task of its own.
    func accept(inbox: MediaInbox, logger: Logger) async {
        do {
            try await listener.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { connections in
                    for try await connection in inbound {
                        connections.addTask { await serve(connection, inbox: inbox, logger: logger) }
                    }
                }
            }
        } catch {
            logger.debug("media: the TURN stream listener stopped", metadata: ["error": "\(error)"])
        }
    }

    private func serve(_ connection: Connection, inbox: MediaInbox, logger: Logger) async {
        let channel = connection.channel
        guard let remote = channel.remoteAddress.flatMap(TransportAddress.init), admissions.admit(remote.ip) else {
            // Closed through the wrapper, which finishes its writer: a wrapper dropped unfinished traps.
            try? await connection.executeThenClose { _, _ in }
            return
        }
        defer { admissions.release(remote.ip) }
        let client = remote.unmappedIPv4 ?? remote
        let local = channel.localAddress.flatMap(TransportAddress.init).map { ($0.unmappedIPv4 ?? $0).ip }
        let (outbox, writer) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(Self.outboxFrames))
        await inbox.deliver(.streamOpened(client, writer))
        let framed = Mutex(false)
        let deadline = Task {
            try await Task.sleep(for: Self.firstFrameTimeout)
            if !framed.withLock({ $0 }) { channel.close(promise: nil) }
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await frame in outbox { try await outbound.write(ByteBuffer(bytes: TURNStreamFramer.frame(frame))) }
                    }
                    var framer = TURNStreamFramer()
                    for try await buffer in inbound {
                        framer.append(buffer.readableBytesView)
                        while let frame = try framer.next() {
                            framed.withLock { $0 = true }
                            await inbox.deliver(.fromClient(frame, client, arrivedAt: local))
                        }
                    }
                    writer.finish()
                    group.cancelAll()
                }
            }
        } catch {
            logger.debug("media: TURN stream closed", metadata: ["client": "\(client)", "reason": "\(error)"])
        }
        deadline.cancel()
        writer.finish()
        await inbox.deliver(.streamClosed(client))
    }
}

/// Puts a TLS server handler in front of the connection if its first byte starts a TLS
/// handshake record, then steps aside: one port for TURN over TCP and over TLS.
private final class TLSSniffer: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let tls: NIOSSLContext

    init(tls: NIOSSLContext) { self.tls = tls }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if unwrapInboundIn(data).readableBytesView.first == 0x16 {
            do {
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .after(self))
            } catch {
                context.close(promise: nil)
                return
            }
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
