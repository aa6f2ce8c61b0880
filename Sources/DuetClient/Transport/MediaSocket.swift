import DuetWire
import NIOCore
import NIOPosix
import Synchronization

/// The one UDP socket a call's media, connectivity checks and relay traffic share (RFC 7983
/// demultiplexing happens above it). Received datagrams go to the current handler, which
/// the owner replaces as the call moves on (gathering candidates, then the call itself).
public final class MediaSocket: Sendable {
    public struct Datagram: Sendable {
        public let bytes: [UInt8]
        public let source: TransportAddress
    }

    public typealias Handler = @Sendable (Datagram) -> Void
    /// The address the socket is bound to: the wildcard, and the port the system chose.
    public var localAddress: TransportAddress { handler.state.withLock { $0.localAddress } }
    /// Whether IPv6 peers can be reached from this socket: IPv6 and IPv4 on one socket, IPv4
    /// peers written to and read from as ::ffff:a.b.c.d. (A rebind may fall back to IPv4.)
    public var carriesIPv6: Bool { handler.state.withLock { $0.dualStack } }
    private let handler: HandlerBox

    /// Binds every interface on an ephemeral port: IPv6 and IPv4 on one dual-stack socket
    /// (`::`), or IPv4 alone (`0.0.0.0`) where the host has no IPv6. Calls, group legs and
    /// meeting legs all bind here (docs/networking.md): a socket bound to one address cannot
    /// be reached at the others, and loopback cannot be reached from another machine at all.
    public static func bind() async throws -> MediaSocket {
        let box = HandlerBox()
        let (channel, dualStack, bound) = try await open(port: 0, into: box)
        let socket = MediaSocket(handler: box)
        box.state.withLock {
            $0.channel = channel
            $0.localAddress = bound
            $0.dualStack = dualStack
        }
        socket.watch(channel)
        return socket
    }

    /// A channel bound to the wildcard on `port` (0: any), delivering to `box`.
    private static func open(port: Int, into box: HandlerBox) async throws -> (any Channel, Bool, TransportAddress) {
        // A bootstrap is a class its options are added to: one each, so IPv4 gets no IPv6 option.
        func bootstrap() -> DatagramBootstrap {
            DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Receiver(handler: box))
                    }
                }
        }
        let channel: any Channel
        var dualStack = true
        do {
            channel = try await bootstrap()
                .channelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 0)
                .bind(host: "::", port: port).get()
        } catch {
            dualStack = false
            channel = try await bootstrap().bind(host: "0.0.0.0", port: port).get()
        }
        guard let bound = channel.localAddress.flatMap(TransportAddress.init(socketAddress:)) else {
            try? await channel.close()
            throw MediaSocketError.noLocalAddress
        }
        return (channel, dualStack, bound)
    }

    private init(handler: HandlerBox) {
        self.handler = handler
    }

    /// NIO closes a datagram channel on most failed sends — ENETUNREACH while an interface goes
    /// down and its routes with it is one —, which would end a call's media for good on the
    /// first network change. So a channel that closes under its owner is bound again, on the
    /// same port when it is still free (peers and NAT mappings know that one), and the handler
    /// carries on.
    private func watch(_ channel: any Channel) {
        channel.closeFuture.whenComplete { [weak self] _ in
            guard let self, !self.handler.state.withLock({ $0.closedByOwner }) else { return }
            Task { await self.reopen() }
        }
    }

    private func reopen() async {
        let port = Int(localAddress.port)
        for attempt in 0..<20 {
            guard !handler.state.withLock({ $0.closedByOwner }) else { return }
            if let (channel, dualStack, bound) = try? await Self.open(port: attempt < 10 ? port : 0, into: handler) {
                let keep = handler.state.withLock { state -> Bool in
                    guard !state.closedByOwner else { return false }
                    state.channel = channel
                    state.localAddress = bound
                    state.dualStack = dualStack
                    return true
                }
                guard keep else { return channel.close(promise: nil) }
                if handler.state.withLock({ !$0.reading }) {
                    channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
                }
                watch(channel)
                return
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Where received datagrams go from now on. While there is no handler the last few small
    /// ones are held for the next (`HandlerBox.heldLimit`): a STUN answer that arrives between
    /// gathering letting go of the socket and the call engine taking it is not lost — losing it
    /// cost a call the 200 ms until its Binding was resent.
    public func setHandler(_ newHandler: Handler?) {
        let held = handler.state.withLock { state -> [Datagram] in
            state.deliver = newHandler
            guard newHandler != nil else { return [] }
            defer { state.held = [] }
            return state.held
        }
        for datagram in held { newHandler?(datagram) }
    }

    /// Sends one datagram; errors (e.g. an unreachable port) are dropped as UDP would.
    public func send(_ bytes: [UInt8], to destination: TransportAddress) {
        let (allowed, channel, dualStack) = handler.state.withLock { ($0.onlyAllowed, $0.channel, $0.dualStack) }
        if let allowed, !allowed.contains(destination) { return }
        // An IPv6 peer cannot be reached from an IPv4 socket (and NIO would close it for trying).
        if !dualStack, destination.ip.count == 16 { return }
        guard let channel, let address = try? (dualStack ? destination.mappedToIPv6 : destination).socketAddress else { return }
        let envelope = AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(bytes: bytes))
        channel.writeAndFlush(envelope, promise: nil)
    }

    /// Test hook: datagrams to or from any address other than `addresses` are dropped, as a
    /// firewall between the peers would (forces the relay fallback). Nil lifts it.
    public func restrict(to addresses: Set<TransportAddress>?) {
        handler.state.withLock { $0.onlyAllowed = addresses }
    }

    /// Stops reading the socket for good: what arrives stays in (and overflows) the kernel's
    /// buffer, costing this process nothing — a send-only participant once its handshake is done.
    public func stopReading() {
        let channel = handler.state.withLock { state -> (any Channel)? in
            state.reading = false
            return state.channel
        }
        channel?.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
    }

    /// Test hook: what this socket receives is lost and delayed as `impairment` says, as a
    /// bad network would do it (nil: delivered as it comes).
    public func impair(_ impairment: NetworkImpairment?) {
        handler.state.withLock { $0.impairment = impairment }
    }

    public func close() {
        let channel = handler.state.withLock { state -> (any Channel)? in
            state.closedByOwner = true
            return state.channel
        }
        channel?.close(promise: nil)
    }

    /// The handler slot, address filter and impairment shared by the socket and its channel
    /// handler, and the channel itself (replaced if NIO closes it): one lock, read once per
    /// datagram (50 a second per stream).
    private final class HandlerBox: Sendable {
        /// Datagrams held while there is no handler, and the largest held.
        static let heldLimit = 8
        static let heldSizeLimit = 1500

        struct State {
            var deliver: Handler?
            var held: [Datagram] = []
            var onlyAllowed: Set<TransportAddress>?
            var impairment: NetworkImpairment?
            var channel: (any Channel)?
            var localAddress = TransportAddress(ip: [0, 0, 0, 0], port: 0)
            var reading = true
            var closedByOwner = false
            var dualStack = true
        }

        let state = Mutex(State())
    }

    /// Hands each datagram to the current handler; never blocks the event loop for long.
    private final class Receiver: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let handler: HandlerBox

        init(handler: HandlerBox) { self.handler = handler }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            // Only what delivery needs: the whole state would retain the channel per datagram too.
            let (deliver, onlyAllowed, impairment) = handler.state.withLock { ($0.deliver, $0.onlyAllowed, $0.impairment) }
            guard let peer = TransportAddress(socketAddress: envelope.remoteAddress) else { return }
            // A dual-stack socket names IPv4 peers in their mapped form; the rest of Duet never does.
            let source = peer.unmappedIPv4 ?? peer
            if let allowed = onlyAllowed, !allowed.contains(source) { return }
            let datagram = Datagram(bytes: Array(envelope.data.readableBytesView), source: source)
            guard let deliver else { return hold(datagram) }
            guard let impairment else { return deliver(datagram) }
            guard Double.random(in: 0..<1) >= impairment.lossFraction else { return }
            // Each datagram is held a random time of its own, so they also arrive out of order.
            let delay = Int64.random(in: 0...max(0, impairment.maximumDelayMilliseconds))
            context.eventLoop.scheduleTask(in: .milliseconds(delay)) { deliver(datagram) }
        }

        /// Keeps `datagram` for the next handler (the oldest held goes when full), or hands it
        /// to one set meanwhile.
        private func hold(_ datagram: Datagram) {
            guard datagram.bytes.count <= HandlerBox.heldSizeLimit else { return }
            let deliver = handler.state.withLock { state -> Handler? in
                guard state.deliver == nil else { return state.deliver }
                if state.held.count == HandlerBox.heldLimit { state.held.removeFirst() }
                state.held.append(datagram)
                return nil
            }
            deliver?(datagram)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // ICMP port-unreachable and the like: UDP carries on.
        }
    }
}

/// Loss and delay applied to what a media socket receives: a test's bad network (20 % loss,
/// up to 100 ms of jitter) on real sockets.
public struct NetworkImpairment: Sendable, Equatable {
    /// The share of datagrams dropped, 0…1.
    public var lossFraction: Double
    /// Each datagram that is not dropped is held a uniformly random 0…this many ms.
    public var maximumDelayMilliseconds: Int64

    public init(lossFraction: Double, maximumDelayMilliseconds: Int64) {
        self.lossFraction = lossFraction
        self.maximumDelayMilliseconds = maximumDelayMilliseconds
    }
}

public enum MediaSocketError: Error, CustomStringConvertible {
    case noLocalAddress
    public var description: String { "the media socket has no local address after binding" }
}

extension TransportAddress {
    /// From a NIO socket address (IPv4 or IPv6).
    init?(socketAddress: SocketAddress) {
        guard let port = socketAddress.port else { return nil }
        switch socketAddress {
        case let .v4(v4):
            let raw = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            self.init(ip: [UInt8(raw >> 24), UInt8(raw >> 16 & 0xFF), UInt8(raw >> 8 & 0xFF), UInt8(raw & 0xFF)], port: UInt16(port))
        case let .v6(v6):
            var address = v6.address.sin6_addr
            let bytes = withUnsafeBytes(of: &address) { Array($0) }
            self.init(ip: bytes, port: UInt16(port))
        default:
            return nil
        }
    }

    /// As a NIO socket address.
    /// From the packed bytes: every datagram sent passes here, and text would be written and
    /// parsed again each time.
    var socketAddress: SocketAddress {
        get throws { try SocketAddress(packedIPAddress: ByteBuffer(bytes: ip), port: Int(port)) }
    }
}
