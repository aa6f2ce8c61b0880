import DuetWire
import Foundation
import Logging
import NIOCore
import NIOPosix

/// The media port's one owner (docs/server.md "The media port"): the `MediaRouter` and every
/// relayed socket live on the media socket's event loop, and this object — reachable only on
/// that loop — applies each `MediaEvent` to the router and does the writes it asks for.
///
/// Why on the event loop rather than in a task of its own: a datagram read by NIO is routed in
/// the same call that read it, and the copies it becomes are written without a hop to another
/// thread and back; the writes of a whole read burst (up to `MediaService.vectorRead` datagrams
/// per system call) leave in one flush, which NIO turns into `sendmmsg`. Relayed sockets are
/// bound on the same loop, so what a peer sends is handled in the call that read it too. The
/// rarer events — TURN over TCP/TLS, the once-a-second tick — come in through `MediaInbox`.
final class MediaLoop {
    typealias Datagram = AddressedEnvelope<ByteBuffer>

    private var router: MediaRouter
    private let media: Channel
    private let host: String
    private let advertisement: MediaAdvertisement
    /// Bound to `::`, IPv4 and IPv6 alike: IPv4 clients are written as ::ffff:a.b.c.d.
    private let dualStack: Bool
    private let logger: Logger
    /// Whether the media port was written since the last flush, and which relayed sockets were
    /// (the port takes every SFU copy: a flag, not a dictionary insert per copy).
    private var mediaUnflushed = false
    private var unflushed: [ObjectIdentifier: Channel] = [:]
    /// Set once the port closes: relayed sockets bound after that are closed at once.
    private var stopped = false
    private var flushScheduled = false

    init(router: MediaRouter, media: Channel, host: String, advertisement: MediaAdvertisement, logger: Logger) {
        self.router = router
        self.media = media
        self.host = host
        self.advertisement = advertisement
        self.dualStack = (media.localAddress.flatMap(TransportAddress.init)?.ip.count ?? 4) == 16
        self.logger = logger
    }

    /// Applies one event and carries out what the router answers; writes wait for `flush()`.
    func handle(_ event: MediaEvent) {
        media.eventLoop.preconditionInEventLoop()
        let arrivedAt: [UInt8]? = if case let .fromClient(_, _, destination) = event { destination } else { nil }
        for output in router.handle(event, now: Date().timeIntervalSince1970) {
            perform(output, arrivedAt: arrivedAt)
        }
    }

    /// Flushes once the event loop has handled every socket that woke it: NIO runs its tasks
    /// after the I/O of a wake-up, so what all of them read — the media port's bursts and each
    /// relayed socket's datagrams — leaves in one `sendmmsg` per socket written, not one
    /// `sendmsg` per relayed datagram.
    func flushSoon() {
        guard !flushScheduled else { return }
        flushScheduled = true
        media.eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            flush()
        }
    }

    /// Sends what the events since the last flush wrote.
    func flush() {
        if mediaUnflushed { media.flush() }
        mediaUnflushed = false
        for channel in unflushed.values { channel.flush() }
        unflushed.removeAll(keepingCapacity: true)
        for kind in router.takeNewDrops() {
            logger.notice("media: dropping \(kind.label.dropLast(10)) datagrams; they are not STUN, TURN, DTLS or RTP")
        }
    }

    /// The last error the media port's channel reported (a fatal one closes the port).
    private(set) var lastError: (any Error)?

    func record(_ error: any Error) { lastError = error }

    /// The port closed: closes every relayed socket and returns what the port did over its life.
    func stop() -> [String: Int] {
        stopped = true
        for socket in router.closeAll() { socket.close() }
        return router.counts.merging(router.sfu.counts) { $0 + $1 }.merging(router.sfu.roomDrops) { $0 + $1 }
    }

    private func perform(_ output: MediaOutput, arrivedAt: [UInt8]?) {
        switch output {
        case let .sendToClient(client, bytes):
            write(bytes, to: client, on: media)
        case let .sendToStream(outbox, bytes):
            outbox.yield(bytes)
        case let .sendToPeer(socket, peer, bytes):
            write(bytes, to: peer, on: socket.channel)
        case let .close(socket):
            socket.close()
        case let .bindRelaySocket(request):
            bindRelaySocket(for: request, relayIP: advertisement.relayIP(arrivedAt: arrivedAt))
        }
    }

    private func write(_ bytes: [UInt8], to address: TransportAddress, on channel: Channel) {
        send(to: address, on: channel, size: bytes.count) { $0.writeBytes(bytes) }
    }

    /// Writes a datagram of `size` bytes that `fill` puts in; writes wait for `flush()`. Past the
    /// channel's high watermark (`MediaService.writeQueue`: the kernel's send buffer is full and
    /// NIO holds the rest) a datagram is dropped and counted rather than queued, so a sender
    /// faster than the link costs no memory.
    private func send(to address: TransportAddress, on channel: Channel, size: Int, _ fill: (inout ByteBuffer) -> Void) {
        guard channel.isWritable else {
            router.countUnsent()
            return
        }
        let to = dualStack ? address.mappedToIPv6 : address
        var buffer = channel.allocator.buffer(capacity: size)
        fill(&buffer)
        // A failed UDP send (e.g. no route) loses that datagram; it must not end the port.
        channel.write(Datagram(remoteAddress: to.socketAddress, data: buffer), promise: nil)
        if channel === media { mediaUnflushed = true } else { unflushed[ObjectIdentifier(channel)] = channel }
    }

    // MARK: - The relay's common path

    /// ChannelData from a UDP client to a peer on a bound channel: its payload goes out of the
    /// relayed socket copied once from the buffer it was read into, with none of `handle`'s arrays
    /// (the relay's per-packet cost, docs/performance.md "Relay against coturn"). False when the
    /// router does not take it this way (`MediaRouter.channelOut`): `handle` then does.
    func relayOut(_ datagram: ByteBuffer, from client: TransportAddress) -> Bool {
        let start = datagram.readerIndex
        guard let channel = datagram.getInteger(at: start, as: UInt16.self), ChannelData.channelRange.contains(channel),
            let declared = datagram.getInteger(at: start + 2, as: UInt16.self), 4 + Int(declared) <= datagram.readableBytes,
            datagram.readableBytes - 4 - Int(declared) < 4, let payload = datagram.getSlice(at: start + 4, length: Int(declared))
        else { return false }
        let now = Date().timeIntervalSince1970
        guard let route = router.channelOut(from: client, channel: channel, now: now, payload: { Array(payload.readableBytesView) }) else {
            return false
        }
        send(to: route.peer, on: route.socket.channel, size: payload.readableBytes) { $0.writeImmutableBuffer(payload) }
        return true
    }

    /// A peer's datagram to `relayed` on a channel bound to that peer: framed as ChannelData
    /// for its UDP client, copied once from the buffer it was read into. False when the router
    /// does not take it this way (`MediaRouter.channelBack`): `handle` then does.
    func relayBack(_ datagram: ByteBuffer, from peer: TransportAddress, to relayed: TransportAddress) -> Bool {
        guard let length = UInt16(exactly: datagram.readableBytes) else { return false }
        let now = Date().timeIntervalSince1970
        guard let route = router.channelBack(from: peer, to: relayed, now: now, payload: { Array(datagram.readableBytesView) }) else {
            return false
        }
        send(to: route.client, on: media, size: 4 + Int(length)) { buffer in
            buffer.writeInteger(route.channel)
            buffer.writeInteger(length)
            buffer.writeImmutableBuffer(datagram)
        }
        return true
    }

    /// Binds a relayed socket on the media host (port 0) on this loop; what peers send to it is
    /// handled like the media port's own datagrams. Reports back with `.relayBound` or
    /// `.relayBindFailed`.
    private func bindRelaySocket(for request: RelayCore.PendingAllocation, relayIP: [UInt8]) {
        let owner = NIOLoopBound(self, eventLoop: media.eventLoop)
        guard var local = media.localAddress else {
            handle(.relayBindFailed(request, reason: "the media port has no address"))
            return
        }
        // The media port's own address with port 0: no name lookup on the loop.
        local.port = 0
        let bound = MediaService.bootstrap(for: host, on: media.eventLoop)
            .channelOption(.socketOption(.so_rcvbuf), value: MediaService.receiveBuffer / 8)
            .channelOption(.writeBufferWaterMark, value: MediaService.relayedWriteQueue)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RelaySocketHandler(owner: owner)) }
            }
            .bind(to: local)
        bound.assumeIsolated().whenComplete { [self] result in
            switch result {
            case let .success(channel):
                guard let port = channel.localAddress?.port, let port16 = UInt16(exactly: port) else {
                    channel.close(promise: nil)
                    handle(.relayBindFailed(request, reason: "relayed socket has no port"))
                    return flush()
                }
                let address = TransportAddress(ip: relayIP, port: port16)
                // The port closed meanwhile (shutdown): nobody will own this socket.
                guard !stopped else { return channel.close(promise: nil) }
                guard let reader = try? channel.pipeline.syncOperations.handler(type: RelaySocketHandler.self) else {
                    channel.close(promise: nil)
                    handle(.relayBindFailed(request, reason: "relayed socket has no reader"))
                    return flush()
                }
                reader.relayed = address
                handle(.relayBound(request, RelaySocket(address: address, channel: channel)))
            case let .failure(error):
                logger.warning("media: cannot bind a relayed socket", metadata: ["error": "\(error)"])
                handle(.relayBindFailed(request, reason: "\(error)"))
            }
            flush()
        }
    }
}

/// Reads the media port: each datagram goes to the `MediaLoop` as it is read, and the copies
/// it became leave together once the event loop's wake-up is handled (`flushSoon`).
final class MediaPortHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let owner: MediaLoop

    init(owner: MediaLoop) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let datagram = unwrapInboundIn(data)
        guard let from = TransportAddress(datagram.remoteAddress) else { return }
        let client = from.unmappedIPv4 ?? from
        if owner.relayOut(datagram.data, from: client) {
            // A read that fails part-way skips channelReadComplete: the flush must not wait for it.
            owner.flushSoon()
            return
        }
        let arrivedAt = datagram.metadata?.packetInfo.flatMap { TransportAddress($0.destinationAddress)?.ip }
        owner.handle(.fromClient(Array(datagram.data.readableBytesView), client, arrivedAt: arrivedAt))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        owner.flushSoon()
    }

    /// A UDP error (an ICMP unreachable reported on a later read, say) loses a datagram, not
    /// the port; one NIO cannot recover from closes it, and `MediaService` logs it then.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        owner.record(error)
    }
}

/// Reads one relayed socket: what a peer sends to the allocation goes to the `MediaLoop`.
/// `relayed` is set once the socket's announced address is known; nothing is read before
/// (the allocation does not exist yet, so nobody can have been told the address).
final class RelaySocketHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let owner: NIOLoopBound<MediaLoop>
    var relayed: TransportAddress?

    init(owner: NIOLoopBound<MediaLoop>) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let datagram = unwrapInboundIn(data)
        guard let relayed, let from = TransportAddress(datagram.remoteAddress) else { return }
        let peer = from.unmappedIPv4 ?? from
        if !owner.value.relayBack(datagram.data, from: peer, to: relayed) {
            owner.value.handle(.fromPeer(Array(datagram.data.readableBytesView), peer, relayed: relayed))
        }
        // A read that fails part-way skips channelReadComplete: the flush must not wait for it.
        owner.value.flushSoon()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        owner.value.flushSoon()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}

/// How tasks off the media loop — TURN over TCP/TLS, the clock — hand it events. Each
/// delivery waits until the loop has applied it, so a stream's reader never runs ahead of the
/// loop: at most one frame per connection is in flight.
struct MediaInbox: Sendable {
    private let owner: NIOLoopBound<MediaLoop>
    private let eventLoop: EventLoop

    init(_ owner: MediaLoop, on eventLoop: EventLoop) {
        self.owner = NIOLoopBound(owner, eventLoop: eventLoop)
        self.eventLoop = eventLoop
    }

    /// The port closed: see `MediaLoop.stop()`. On the loop only.
    func stop() -> (counts: [String: Int], lastError: (any Error)?) { (owner.value.stop(), owner.value.lastError) }

    func deliver(_ event: MediaEvent) async {
        let owner = self.owner
        try? await eventLoop.submit {
            owner.value.handle(event)
            owner.value.flush()
        }.get()
    }
}
