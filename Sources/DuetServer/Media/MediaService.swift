import DuetCrypto
import DuetMedia
import DuetWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The media UDP port (docs/server.md, docs/networking.md): STUN Binding answers, the TURN relay (RFC 8656
/// subset), and the group calls' SFU: DTLS-SRTP handshakes and SRTP routed between legs.
///
/// Ownership: one task — the loop in `run()` — owns the `MediaRouter` and with it the
/// `RelayCore` struct. The media socket's reader, each relayed socket's reader, socket
/// binding and the once-a-second clock are separate tasks that only put `MediaEvent`s on
/// one bounded stream; the loop applies them in order and does the writes. No lock and no
/// actor re-entrancy: the core changes in one place, one event at a time. Under a flood the
/// stream drops the newest events (UDP would have lost them anyway) instead of growing.
final class MediaService: Service, Sendable {
    typealias Datagram = AddressedEnvelope<ByteBuffer>
    /// Events waiting for the loop before new ones are dropped.
    static let eventBuffer = 8192

    private let socket: NIOAsyncChannel<Datagram, Datagram>
    private let streams: RelayStreams
    private let credentials: RelayCore.Credentials
    /// Who relay allocations may reach (the server's own ports filled in).
    private let relayPeers: RelayPeerPolicy
    /// This process's DTLS certificate (one per run; its fingerprint goes out in `groupCall`).
    private let certificate: DTLSCertificate
    /// The legs signaling announced, shared with it (see `AnnouncedLegs` for what guards it).
    private let announcedLegs: AnnouncedLegs
    private let recordings: MeetingRecordings?
    private let witness: MediaWitness?
    private let logger: Logger
    /// Where the media socket is bound.
    let address: HostPort
    /// Which IP relayed sockets are announced with.
    private let advertisement: MediaAdvertisement
    /// Bound to `::`, IPv4 and IPv6 alike: IPv4 clients are read and written as ::ffff:a.b.c.d.
    private let dualStack: Bool

    /// The media socket, bound before the rest of the server is made (relay credentials
    /// carry its address).
    struct BoundSocket: Sendable {
        let channel: NIOAsyncChannel<Datagram, Datagram>
        let address: HostPort
        let ip: [UInt8]
        /// TURN over TCP and TLS on the same port number.
        let streams: RelayStreams
    }

    /// The media port's kernel receive buffer: 4 MiB holds thousands of small datagrams (the
    /// kernel counts about a kilobyte of overhead for each), a good part of a second of a loaded
    /// server's traffic, so a stall of the process (a busy machine) delays media instead of
    /// dropping it. The kernel caps it at net.core.rmem_max (212 992 bytes on a stock Linux, a
    /// couple of hundred datagrams: raise it on a busy server). A relayed socket carries one
    /// direction of one call and gets an eighth.
    static let receiveBuffer: SocketOptionValue = 4 << 20
    /// Reading stops only when this many datagrams wait for the loop (NIO's default stops at
    /// 10, leaving the kernel's buffer as the only cushion).
    static let channelConfiguration = NIOAsyncChannel<Datagram, Datagram>.Configuration(
        backPressureStrategy: .init(lowWatermark: 256, highWatermark: 1024))

    /// Binds UDP on `address`, then TCP (TURN over TCP and, with `tls`, over TLS) on the same
    /// port number; with port 0, tries a few system-chosen UDP ports until TCP gets one too.
    static func bindSocket(_ address: HostPort, tls: NIOSSLContext? = nil) async throws(ServerStartupError) -> BoundSocket {
        for attempt in 1...8 {
            let udp = try await bindDatagrams(address)
            do {
                let streams = try await RelayStreams.bind(host: address.host, port: udp.address.port, tls: tls)
                return BoundSocket(channel: udp.channel, address: udp.address, ip: udp.ip, streams: streams)
            } catch {
                try? await udp.channel.channel.close()
                if address.port != 0 || attempt == 8 {
                    throw .bind(
                        what: "media", address: address.description, reason: "TCP (TURN over TCP/TLS) on port \(udp.address.port): \(error)"
                    )
                }
            }
        }
        throw .bind(what: "media", address: address.description, reason: "no port free for both UDP and TCP")
    }

    private static func bindDatagrams(_ address: HostPort) async throws(ServerStartupError)
        -> (channel: NIOAsyncChannel<Datagram, Datagram>, address: HostPort, ip: [UInt8])
    {
        do {
            let socket = try await Self.bootstrap(for: address.host)
                .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: Self.receiveBuffer)
                // Which of its addresses a datagram was sent to: the relay's announced IP when
                // the port is bound to every interface (see `MediaAdvertisement`).
                .channelOption(ChannelOptions.receivePacketInfo, value: true)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<Datagram, Datagram>(
                            wrappingChannelSynchronously: channel, configuration: Self.channelConfiguration)
                    }
                }
            guard let local = socket.channel.localAddress, let bound = TransportAddress(local) else {
                try? await socket.channel.close()
                throw ServerStartupError.bind(what: "media", address: address.description, reason: "the socket has no IP address")
            }
            return (socket, HostPort(host: address.host, port: Int(bound.port)), bound.ip)
        } catch let error as ServerStartupError {
            throw error
        } catch {
            throw .bind(what: "media", address: address.description, reason: "\(error)")
        }
    }

    /// A UDP bootstrap for `host`; on an IPv6 host, IPv4 too (`::` then serves both families).
    private static func bootstrap(for host: String) -> DatagramBootstrap {
        let bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        guard host.contains(":") else { return bootstrap }
        return bootstrap.channelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 0)
    }

    init(
        bound: BoundSocket, advertisement: MediaAdvertisement, credentials: RelayCore.Credentials, relayPeers: RelayPeerPolicy = .standard,
        certificate: DTLSCertificate, announcedLegs: AnnouncedLegs, recordings: MeetingRecordings? = nil, witness: MediaWitness? = nil,
        logger: Logger
    ) {
        self.relayPeers = relayPeers
        self.recordings = recordings
        self.witness = witness
        self.socket = bound.channel
        self.streams = bound.streams
        self.credentials = credentials
        self.certificate = certificate
        self.announcedLegs = announcedLegs
        self.logger = logger
        self.address = bound.address
        self.advertisement = advertisement
        self.dualStack = bound.ip.count == 16
    }

    /// Releases the port when startup fails after binding it.
    static func closeUnstarted(_ bound: BoundSocket) async {
        try? await bound.channel.channel.close()
        try? await bound.streams.listener.channel.close()
    }

    func run() async throws {
        let socket = self.socket, streams = self.streams
        try await withGracefulShutdownHandler {
            try await socket.executeThenClose { inbound, outbound in
                try await serve(inbound: inbound, outbound: outbound)
            }
        } onGracefulShutdown: {
            socket.channel.close(promise: nil)
            streams.listener.channel.close(promise: nil)
        }
    }

    private func serve(inbound: NIOAsyncChannelInboundStream<Datagram>, outbound: NIOAsyncChannelOutboundWriter<Datagram>) async throws {
        let (events, sink) = AsyncStream.makeStream(of: MediaEvent.self, bufferingPolicy: .bufferingOldest(Self.eventBuffer))
        let nonceBytes = SecureRandom.bytes(12)
        var router = MediaRouter(
            credentials: credentials, nonce: Data(nonceBytes).base64EncodedString(),
            sfu: SFUPort(certificate: certificate, announced: announcedLegs, recordings: recordings, witness: witness),
            witness: witness, sfuAddresses: advertisement.sfuAddresses(port: UInt16(address.port)), peers: relayPeers)
        let logger = self.logger

        await withDiscardingTaskGroup { group in
            group.addTask {
                // Ends when the socket closes (shutdown); a read error ends it too, and with it
                // the loop: the port is unusable then.
                do {
                    for try await datagram in inbound {
                        guard let from = TransportAddress(datagram.remoteAddress) else { continue }
                        let arrivedAt = datagram.metadata?.packetInfo.flatMap { TransportAddress($0.destinationAddress)?.ip }
                        sink.yield(.fromClient(Array(datagram.data.readableBytesView), from.unmappedIPv4 ?? from, arrivedAt: arrivedAt))
                    }
                } catch {
                    logger.error("media: reading the media port failed", metadata: ["error": "\(error)"])
                }
                sink.finish()
            }
            let streams = self.streams
            group.addTask {
                await streams.accept(sink: sink, logger: logger)
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if case .terminated = sink.yield(.tick) { return }
                }
            }
            var noticed: Set<String> = []
            for await event in events {
                // Datagrams to clients go out in one write per event: a group-call frame becomes a
                // copy for every other member, and awaiting each copy on its own (a hop to the event
                // loop and back) capped the SFU at a few thousand datagrams a second, idle-waiting.
                var toClients: [Datagram] = []
                let arrivedAt: [UInt8]? = if case let .fromClient(_, _, destination) = event { destination } else { nil }
                for output in router.handle(event, now: Date().timeIntervalSince1970) {
                    await perform(output, arrivedAt: arrivedAt, toClients: &toClients, sink: sink, group: &group)
                }
                if !toClients.isEmpty {
                    // A failed UDP send (e.g. no route) loses datagrams; it must not end the port.
                    try? await outbound.write(contentsOf: toClients)
                }
                for (kind, _) in router.counts where kind.hasSuffix("(dropped)") && !noticed.contains(kind) {
                    noticed.insert(kind)
                    logger.notice("media: dropping \(kind.dropLast(10)) datagrams; they are not STUN, TURN, DTLS or RTP")
                }
            }
            for socket in router.closeAll() { socket.close() }
            // What the port did over its life, for the operator (and the load bench).
            let counts = router.counts.merging(router.sfu.counts) { $0 + $1 }.merging(router.sfu.roomDrops) { $0 + $1 }
            logger.info("media: stopped", metadata: counts.mapValues { "\($0)" })
            group.cancelAll()
        }
    }

    /// Carries out one of the router's outputs; datagrams to clients are only collected in
    /// `toClients`, which the loop writes at once after the event.
    private func perform(
        _ output: MediaOutput, arrivedAt: [UInt8]?, toClients: inout [Datagram],
        sink: AsyncStream<MediaEvent>.Continuation, group: inout DiscardingTaskGroup
    ) async {
        switch output {
        case let .sendToClient(client, bytes):
            let to = dualStack ? client.mappedToIPv6 : client
            toClients.append(Datagram(remoteAddress: to.socketAddress, data: ByteBuffer(bytes: bytes)))
        case let .sendToStream(outbox, bytes):
            outbox.yield(bytes)
        case let .sendToPeer(socket, peer, bytes):
            let to = dualStack ? peer.mappedToIPv6 : peer
            try? await socket.outbound.write(Datagram(remoteAddress: to.socketAddress, data: ByteBuffer(bytes: bytes)))
        case let .close(socket):
            socket.close()
        case let .bindRelaySocket(request):
            let host = address.host, relayIP = advertisement.relayIP(arrivedAt: arrivedAt), logger = self.logger
            group.addTask {
                await Self.runRelaySocket(for: request, host: host, relayIP: relayIP, sink: sink, logger: logger)
            }
        }
    }

    /// Binds a relayed socket on the media host (port 0), hands it to the loop, then feeds
    /// what peers send to it back as events until the loop closes it.
    private static func runRelaySocket(
        for request: RelayCore.PendingAllocation, host: String, relayIP: [UInt8],
        sink: AsyncStream<MediaEvent>.Continuation, logger: Logger
    ) async {
        let channel: NIOAsyncChannel<Datagram, Datagram>
        let relayed: TransportAddress
        do {
            channel = try await Self.bootstrap(for: host)
                .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: Self.receiveBuffer / 8)
                .bind(host: host, port: 0) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<Datagram, Datagram>(
                            wrappingChannelSynchronously: channel, configuration: Self.channelConfiguration)
                    }
                }
            guard let port = channel.channel.localAddress?.port, let port16 = UInt16(exactly: port) else {
                try? await channel.channel.close()
                sink.yield(.relayBindFailed(request, reason: "relayed socket has no port"))
                return
            }
            relayed = TransportAddress(ip: relayIP, port: port16)
        } catch {
            logger.warning("media: cannot bind a relayed socket", metadata: ["error": "\(error)"])
            sink.yield(.relayBindFailed(request, reason: "\(error)"))
            return
        }
        let underlying = channel.channel
        try? await channel.executeThenClose { inbound, outbound in
            let socket = RelaySocket(address: relayed, outbound: outbound, close: { underlying.close(promise: nil) })
            // If the loop is gone (shutdown) or swamped, nobody will own this socket: close it.
            guard case .enqueued = sink.yield(.relayBound(request, socket)) else { return }
            for try await datagram in inbound {
                guard let peer = TransportAddress(datagram.remoteAddress) else { continue }
                sink.yield(.fromPeer(Array(datagram.data.readableBytesView), peer.unmappedIPv4 ?? peer, relayed: relayed))
            }
        }
    }
}
