import DuetCrypto
import DuetMedia
import DuetWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The media UDP port (docs/server.md, docs/networking.md): STUN Binding answers, the TURN relay (RFC 8656
/// subset), and the group calls' SFU: DTLS-SRTP handshakes and SRTP routed between legs.
///
/// Ownership: the `MediaRouter` — and with it the `RelayCore` struct and the SFU — belongs to
/// a `MediaLoop` on the media socket's event loop, which handles each datagram in the call that
/// read it; relayed sockets are bound on that loop too. TURN over TCP/TLS and the
/// once-a-second clock reach it through `MediaInbox`. No lock and no actor re-entrancy: the
/// core changes in one place, one event at a time. Under a flood the kernel's receive buffer
/// drops what the loop cannot read (UDP would have lost it anyway), and a socket whose sends
/// cannot keep up drops datagrams past its write queue (`writeQueue`): memory stays bounded.
final class MediaService: Service, Sendable {
    typealias Datagram = AddressedEnvelope<ByteBuffer>

    private let socket: Channel
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

    /// The media socket, bound before the rest of the server is made (relay credentials
    /// carry its address). It reads nothing until `run()` gives it its loop: the kernel holds
    /// what arrives meanwhile.
    struct BoundSocket: Sendable {
        let channel: Channel
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
    /// Bytes of datagrams NIO may hold for a socket whose kernel send buffer is full before
    /// the loop drops new ones (`MediaLoop`): a burst's writes wait here until their flush, so
    /// the high mark is well above one burst (128 datagrams read × 31 copies).
    static let writeQueue = ChannelOptions.Types.WriteBufferWaterMark(low: 4 << 20, high: 8 << 20)
    /// A relayed socket carries one direction of one call: a smaller queue.
    static let relayedWriteQueue = ChannelOptions.Types.WriteBufferWaterMark(low: 128 << 10, high: 256 << 10)
    /// Datagrams read per system call (`recvmmsg`), each in a slice of `readSlice` bytes of
    /// one pooled buffer: larger than any datagram the port serves (media under a 1,200-byte
    /// MTU, TURN and DTLS flights), so none is cut short.
    static let vectorRead = 32
    static let readSlice = 2048

    /// Binds UDP on `address`, then TCP (TURN over TCP and, with `tls`, over TLS) on the same
    /// port number; with port 0, tries a few system-chosen UDP ports until TCP gets one too.
    static func bindSocket(_ address: HostPort, tls: NIOSSLContext? = nil) async throws(ServerStartupError) -> BoundSocket {
        for attempt in 1...8 {
            let udp = try await bindDatagrams(address)
            do {
                let streams = try await RelayStreams.bind(host: address.host, port: udp.address.port, tls: tls)
                return BoundSocket(channel: udp.channel, address: udp.address, ip: udp.ip, streams: streams)
            } catch {
                try? await udp.channel.close()
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
        -> (channel: Channel, address: HostPort, ip: [UInt8])
    {
        do {
            let channel = try await Self.bootstrap(for: address.host, on: MultiThreadedEventLoopGroup.singleton.next())
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_rcvbuf), value: Self.receiveBuffer)
                // Which of its addresses a datagram was sent to: the relay's announced IP when
                // the port is bound to every interface (see `MediaAdvertisement`).
                .channelOption(.receivePacketInfo, value: true)
                .channelOption(.datagramVectorReadMessageCount, value: Self.vectorRead)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: Self.vectorRead * Self.readSlice))
                .channelOption(.writeBufferWaterMark, value: Self.writeQueue)
                .channelOption(.autoRead, value: false)
                .bind(host: address.host, port: address.port).get()
            guard let local = channel.localAddress, let bound = TransportAddress(local) else {
                try? await channel.close()
                throw ServerStartupError.bind(what: "media", address: address.description, reason: "the socket has no IP address")
            }
            return (channel, HostPort(host: address.host, port: Int(bound.port)), bound.ip)
        } catch let error as ServerStartupError {
            throw error
        } catch {
            throw .bind(what: "media", address: address.description, reason: "\(error)")
        }
    }

    /// A UDP bootstrap for `host` on `loop`; on an IPv6 host, IPv4 too (`::` then serves both
    /// families).
    static func bootstrap(for host: String, on loop: EventLoop) -> DatagramBootstrap {
        let bootstrap = DatagramBootstrap(group: loop)
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
    }

    /// Releases the port when startup fails after binding it.
    static func closeUnstarted(_ bound: BoundSocket) async {
        try? await bound.channel.close()
        try? await bound.streams.listener.channel.close()
    }

    func run() async throws {
        let socket = self.socket, streams = self.streams, logger = self.logger
        let inbox = try await socket.eventLoop.submit { try self.startLoop() }.get()
        let stopping = Mutex(false)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await streams.accept(inbox: inbox, logger: logger) }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        await inbox.deliver(.tick)
                    }
                }
                // Ends when the socket closes: shutdown, cancellation (another service of the
                // group ended), or an error that left the port unusable.
                await withTaskCancellationHandler {
                    try? await socket.closeFuture.get()
                } onCancel: {
                    socket.close(promise: nil)
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
            socket.close(promise: nil)
            streams.listener.channel.close(promise: nil)
        }
        streams.listener.channel.close(promise: nil)
        let (counts, lastError) = try await socket.eventLoop.submit { inbox.stop() }.get()
        if !stopping.withLock({ $0 }) && !Task.isCancelled {
            logger.error("media: the media port closed", metadata: ["error": "\(lastError.map { "\($0)" } ?? "none reported")"])
        }
        // What the port did over its life, for the operator (and the load bench).
        logger.info("media: stopped", metadata: counts.mapValues { "\($0)" })
    }

    /// On the socket's loop: makes the router and its owner, puts the reader in front of it
    /// and starts reading.
    private func startLoop() throws -> MediaInbox {
        let nonceBytes = SecureRandom.bytes(12)
        let router = MediaRouter(
            credentials: credentials, nonce: Data(nonceBytes).base64EncodedString(),
            sfu: SFUPort(certificate: certificate, announced: announcedLegs, recordings: recordings, witness: witness),
            witness: witness, sfuAddresses: advertisement.sfuAddresses(port: UInt16(address.port)), peers: relayPeers)
        let owner = MediaLoop(router: router, media: socket, host: address.host, advertisement: advertisement, logger: logger)
        try socket.pipeline.syncOperations.addHandler(MediaPortHandler(owner: owner))
        try socket.syncOptions?.setOption(.autoRead, value: true)
        return MediaInbox(owner, on: socket.eventLoop)
    }
}
