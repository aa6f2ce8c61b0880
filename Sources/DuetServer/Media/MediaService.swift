import DuetCrypto
import DuetMedia
import DuetWire
import Foundation
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The media UDP port (docs/server.md, docs/networking.md): STUN Binding answers, the TURN relay (RFC 8656
/// subset), and the group calls' SFU: DTLS-SRTP handshakes and SRTP routed between legs.
///
/// Ownership: the `MediaRouter` — and with it the `RelayCore` struct and the SFU — belongs to
/// a `MediaLoop` on the media port's own thread (`MediaThread`), which reads the media socket
/// and every relayed socket and handles each datagram in the round that read it. TURN over
/// TCP/TLS and the once-a-second clock reach it through `MediaInbox`. No lock and no actor
/// re-entrancy: the core changes in one place, one event at a time. Under a flood the kernel's
/// receive buffer drops what the loop cannot read (UDP would have lost it anyway), and what
/// the loop writes waits in a fixed buffer until the round ends (`DatagramWriter`): memory
/// stays bounded.
final class MediaService: Service, Sendable {
    private let socket: UDPSocket
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
    /// carry its address). It reads nothing until `run()` starts its thread: the kernel holds
    /// what arrives meanwhile.
    struct BoundSocket: Sendable {
        let socket: UDPSocket
        let address: HostPort
        let ip: [UInt8]
        /// TURN over TCP and TLS on the same port number.
        let streams: RelayStreams
    }

    /// The media port's kernel buffers. 4 MiB of receive buffer holds thousands of small
    /// datagrams (the kernel counts about a kilobyte of overhead for each), a good part of a
    /// second of a loaded server's traffic, so a stall of the process (a busy machine) delays
    /// media instead of dropping it. The kernel caps both at net.core.rmem_max and wmem_max
    /// (212 992 bytes on a stock Linux, a couple of hundred datagrams: raise them on a busy
    /// server). A send never waits: when the send buffer is full, the rest of what waits for
    /// that socket is dropped (`DatagramWriter`), and the thread reads on.
    static let mediaSocket = UDPSocket.Options(receiveBuffer: 4 << 20, sendBuffer: 4 << 20, reuseAddress: true, packetInfo: true)
    /// A relayed socket carries one direction of one call: an eighth of the buffers.
    static let relayedSocket = UDPSocket.Options(receiveBuffer: 512 << 10, sendBuffer: 512 << 10)
    /// Datagrams read per system call (`recvmmsg`), each in a slice of `readSlice` bytes:
    /// larger than any datagram the port serves (media under a 1,200-byte MTU, TURN and DTLS
    /// flights), so none is cut short. The media port is read up to `readsPerWake` times per
    /// round, a relayed socket once: each gets its turn.
    static let vectorRead = 32
    static let readSlice = 2048
    static let readsPerWake = 4
    /// What the loop may write in one round before it sends (`DatagramWriter`): a round's
    /// reads of SFU media fan out to about 31 copies each, and `sendmmsg` takes up to 1,024.
    static let writeBatch = 1024
    static let writeBytes = 1 << 20

    /// Binds UDP on `address`, then TCP (TURN over TCP and, with `tls`, over TLS) on the same
    /// port number; with port 0, tries a few system-chosen UDP ports until TCP gets one too.
    static func bindSocket(_ address: HostPort, tls: NIOSSLContext? = nil) async throws(ServerStartupError) -> BoundSocket {
        for attempt in 1...8 {
            let udp = try bindDatagrams(address)
            do {
                let streams = try await RelayStreams.bind(host: address.host, port: udp.address.port, tls: tls)
                return BoundSocket(socket: udp.socket, address: udp.address, ip: udp.ip, streams: streams)
            } catch {
                udp.socket.close()
                if address.port != 0 || attempt == 8 {
                    throw .bind(
                        what: "media", address: address.description, reason: "TCP (TURN over TCP/TLS) on port \(udp.address.port): \(error)"
                    )
                }
            }
        }
        throw .bind(what: "media", address: address.description, reason: "no port free for both UDP and TCP")
    }

    private static func bindDatagrams(_ address: HostPort) throws(ServerStartupError) -> (socket: UDPSocket, address: HostPort, ip: [UInt8])
    {
        let socket: UDPSocket
        do { socket = try UDPSocket.bound(host: address.host, port: address.port, options: mediaSocket) } catch {
            throw .bind(what: "media", address: address.description, reason: "\(error)")
        }
        guard let bound = socket.localAddress() else {
            socket.close()
            throw .bind(what: "media", address: address.description, reason: "the socket has no IP address")
        }
        return (socket, HostPort(host: address.host, port: Int(bound.port)), bound.ip)
    }

    init(
        bound: BoundSocket, advertisement: MediaAdvertisement, credentials: RelayCore.Credentials, relayPeers: RelayPeerPolicy = .standard,
        certificate: DTLSCertificate, announcedLegs: AnnouncedLegs, recordings: MeetingRecordings? = nil, witness: MediaWitness? = nil,
        logger: Logger
    ) {
        self.relayPeers = relayPeers
        self.recordings = recordings
        self.witness = witness
        self.socket = bound.socket
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
        bound.socket.close()
        try? await bound.streams.listener.channel.close()
    }

    func run() async throws {
        let streams = self.streams, logger = self.logger
        let thread: MediaThread
        do {
            thread = try MediaThread.start(name: "duet-media") { thread throws(SocketError) in
                try self.makeLoop(wake: thread.wakeDescriptor)
            }
        } catch {
            socket.close()
            streams.listener.channel.close(promise: nil)
            throw error
        }
        let inbox = MediaInbox(thread: thread)
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
                // Ends when the loop does: shutdown, cancellation (another service of the
                // group ended), or an error that left the port unusable.
                await withTaskCancellationHandler {
                    _ = await thread.finished()
                } onCancel: {
                    thread.stop()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
            thread.stop()
            streams.listener.channel.close(promise: nil)
        }
        streams.listener.channel.close(promise: nil)
        let report = await thread.finished()
        // The port never opened (no epoll, say): the server must not look as if it started.
        if !report.started, let failure = report.failure { throw failure }
        if !stopping.withLock({ $0 }) && !Task.isCancelled {
            logger.error("media: the media port closed", metadata: ["error": "\(report.failure.map { "\($0)" } ?? "none reported")"])
        }
        // What the port did over its life, for the operator (and the load bench).
        logger.info("media: stopped", metadata: report.counts.mapValues { "\($0)" })
    }

    /// On the media thread: makes the router and the loop that owns it. The media socket is
    /// the loop's from here on (it closes it when it stops); if the loop cannot be made, it is
    /// closed here.
    private func makeLoop(wake: Int32) throws(SocketError) -> MediaLoop {
        let nonceBytes = SecureRandom.bytes(12)
        let router = MediaRouter(
            credentials: credentials, nonce: Data(nonceBytes).base64EncodedString(),
            sfu: SFUPort(certificate: certificate, announced: announcedLegs, recordings: recordings, witness: witness),
            witness: witness, sfuAddresses: advertisement.sfuAddresses(port: UInt16(address.port)), peers: relayPeers)
        do { return try MediaLoop(router: router, media: socket, wake: wake, advertisement: advertisement, logger: logger) } catch {
            socket.close()
            throw error
        }
    }
}
