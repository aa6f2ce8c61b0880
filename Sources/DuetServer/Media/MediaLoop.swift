import CDuetSocket
import DuetWire
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The media port's one owner (docs/server.md "The media port's thread"): the `MediaRouter`,
/// the media socket and every relayed socket live on the `MediaThread`, and this object —
/// reachable only there — reads the sockets, applies each `MediaEvent` to the router and does
/// the writes it asks for.
///
/// A datagram is routed in the round of `epoll_wait` that read it, and the copies it becomes
/// leave at the end of that round, one `sendmmsg` per socket written (`DatagramWriter`):
/// up to `MediaService.readsPerWake` batches of `MediaService.vectorRead` datagrams from the
/// media port and one batch from each relayed socket that woke it. Nothing on the way
/// allocates but the router's own work; ChannelData on a bound channel skips even that
/// (`relayOut`, `relayBack`). The rarer events — TURN over TCP/TLS, the once-a-second tick —
/// come in through `MediaInbox`.
final class MediaLoop {
    private var router: MediaRouter
    private let media: UDPSocket
    private let advertisement: MediaAdvertisement
    /// Bound to `::`, IPv4 and IPv6 alike: IPv4 clients are written as ::ffff:a.b.c.d.
    private let dualStack: Bool
    /// Whether the relay's announced IP depends on which local address an Allocate reached.
    private let readsDestinations: Bool
    private let logger: Logger
    private let epoll: Int32
    private let batch = DatagramBatch(capacity: MediaService.vectorRead, slice: MediaService.readSlice)
    private let writer = DatagramWriter(capacity: MediaService.writeBatch, byteCapacity: MediaService.writeBytes)
    /// The relayed sockets' descriptors, with the address each is announced with.
    private var relayed: [Int32: TransportAddress] = [:]

    /// Watches `media` and `wake` (the thread's wake-up descriptor).
    init(router: MediaRouter, media: UDPSocket, wake: Int32, advertisement: MediaAdvertisement, logger: Logger) throws(SocketError) {
        self.router = router
        self.media = media
        self.advertisement = advertisement
        self.dualStack = media.isIPv6
        self.readsDestinations = advertisement.relayIPDependsOnArrival
        self.logger = logger
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw .last("epoll_create1") }
        for descriptor in [media.descriptor, wake] {
            if let failure = watch(descriptor) {
                Glibc.close(epoll)
                throw failure
            }
        }
    }

    /// Reads and routes until the thread is stopped, or the media port fails (returned).
    func run(on thread: MediaThread) -> SocketError? {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let ready = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), -1) }
            if ready < 0 {
                if errno == EINTR { continue }
                return .last("epoll_wait")
            }
            for index in 0..<Int(ready) {
                let descriptor = events[index].data.fd
                if descriptor == thread.wakeDescriptor {
                    let (jobs, stopping) = thread.takeJobs()
                    for job in jobs { job(self) }
                    if stopping {
                        flush()
                        return nil
                    }
                } else if descriptor == media.descriptor {
                    if let failure = readMedia() { return failure }
                } else if let announced = relayed[descriptor] {
                    readRelayed(UDPSocket(descriptor: descriptor, isIPv6: media.isIPv6), announced: announced)
                }
            }
            flush()
        }
    }

    /// Applies one event and carries out what the router answers; writes wait for `flush()`.
    func handle(_ event: MediaEvent, now: Double = Date().timeIntervalSince1970) {
        let arrivedAt: [UInt8]? = if case let .fromClient(_, _, destination) = event { destination } else { nil }
        for output in router.handle(event, now: now) {
            perform(output, arrivedAt: arrivedAt)
        }
    }

    /// Sends what the events since the last flush wrote.
    func flush() {
        writer.flush()
        for kind in router.takeNewDrops() {
            logger.notice("media: dropping \(kind.label.dropLast(10)) datagrams; they are not STUN, TURN, DTLS or RTP")
        }
    }

    /// The thread is ending: sends what waits, closes every socket and returns what the port
    /// did over its life.
    func stop() -> [String: Int] {
        writer.flush()
        for socket in router.closeAll() { close(socket) }
        media.close()
        Glibc.close(epoll)
        var counts = router.counts.merging(router.sfu.counts) { $0 + $1 }.merging(router.sfu.roomDrops) { $0 + $1 }
        if writer.losses.socketFull > 0 { counts["not sent: the socket's send buffer stayed full"] = writer.losses.socketFull }
        if writer.losses.refused > 0 { counts["not sent: refused by the kernel"] = writer.losses.refused }
        return counts
    }

    // MARK: - Reading

    private func readMedia() -> SocketError? {
        for _ in 0..<MediaService.readsPerWake {
            let count: Int
            do { count = try batch.read(from: media) } catch { return error }
            let now = Date().timeIntervalSince1970
            for index in 0..<count {
                guard let bytes = batch.payload(index), let from = batch.source(index) else { continue }
                let client = from.unmappedIPv4 ?? from
                if relayOut(bytes, from: client, now: now) { continue }
                let arrivedAt = readsDestinations ? batch.destination(index) : nil
                handle(.fromClient(Array(bytes), client, arrivedAt: arrivedAt), now: now)
            }
            if count < batch.capacity { return nil }
        }
        return nil
    }

    /// What peers sent to a relayed socket. A socket that fails for good is no longer watched
    /// (its allocation expires as usual); the port goes on.
    private func readRelayed(_ socket: UDPSocket, announced: TransportAddress) {
        let count: Int
        do { count = try batch.read(from: socket) } catch {
            logger.warning("media: a relayed socket failed", metadata: ["relayed": "\(announced)", "error": "\(error)"])
            epoll_ctl(epoll, EPOLL_CTL_DEL, socket.descriptor, nil)
            return
        }
        let now = Date().timeIntervalSince1970
        for index in 0..<count {
            guard let bytes = batch.payload(index), let from = batch.source(index) else { continue }
            let peer = from.unmappedIPv4 ?? from
            if !relayBack(bytes, from: peer, to: announced, now: now) {
                handle(.fromPeer(Array(bytes), peer, relayed: announced), now: now)
            }
        }
    }

    // MARK: - Writing

    private func perform(_ output: MediaOutput, arrivedAt: [UInt8]?) {
        switch output {
        case let .sendToClient(client, bytes):
            write(bytes, to: client, on: media)
        case let .sendToStream(outbox, bytes):
            outbox.yield(bytes)
        case let .sendToPeer(socket, peer, bytes):
            write(bytes, to: peer, on: socket.socket)
        case let .close(socket):
            close(socket)
        case let .bindRelaySocket(request):
            bindRelaySocket(for: request, relayIP: advertisement.relayIP(arrivedAt: arrivedAt))
        }
    }

    private func write(_ bytes: [UInt8], to address: TransportAddress, on socket: UDPSocket) {
        send(to: address, on: socket, size: bytes.count) { $0.copyBytes(from: bytes) }
    }

    /// Writes a datagram of `size` bytes that `fill` puts in; it leaves with the next flush.
    private func send(to address: TransportAddress, on socket: UDPSocket, size: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        writer.append(to: dualStack ? address.mappedToIPv6 : address, from: socket, size: size, fill)
    }

    // MARK: - The relay's common path

    /// ChannelData from a UDP client to a peer on a bound channel: its payload goes out of the
    /// relayed socket copied once from where it was read, with none of `handle`'s arrays (the
    /// relay's per-packet cost, docs/performance.md "Relay against coturn"). False when the
    /// router does not take it this way (`MediaRouter.channelOut`): `handle` then does.
    private func relayOut(_ datagram: UnsafeRawBufferPointer, from client: TransportAddress, now: Double) -> Bool {
        guard datagram.count >= 4 else { return false }
        let channel = UInt16(datagram[0]) << 8 | UInt16(datagram[1])
        let declared = Int(UInt16(datagram[2]) << 8 | UInt16(datagram[3]))
        guard ChannelData.channelRange.contains(channel), 4 + declared <= datagram.count, datagram.count - 4 - declared < 4 else {
            return false
        }
        let payload = UnsafeRawBufferPointer(rebasing: datagram[4..<(4 + declared)])
        guard let route = router.channelOut(from: client, channel: channel, now: now, payload: { Array(payload) }) else { return false }
        send(to: route.peer, on: route.socket.socket, size: declared) { $0.copyMemory(from: payload) }
        return true
    }

    /// A peer's datagram to `relayed` on a channel bound to that peer: framed as ChannelData
    /// for its UDP client, copied once from where it was read. False when the router does not
    /// take it this way (`MediaRouter.channelBack`): `handle` then does.
    private func relayBack(_ datagram: UnsafeRawBufferPointer, from peer: TransportAddress, to relayed: TransportAddress, now: Double)
        -> Bool
    {
        guard let length = UInt16(exactly: datagram.count),
            let route = router.channelBack(from: peer, to: relayed, now: now, payload: { Array(datagram) })
        else { return false }
        send(to: route.client, on: media, size: 4 + datagram.count) { buffer in
            buffer.storeBytes(of: route.channel.bigEndian, as: UInt16.self)
            buffer.storeBytes(of: length.bigEndian, toByteOffset: 2, as: UInt16.self)
            UnsafeMutableRawBufferPointer(rebasing: buffer[4...]).copyMemory(from: datagram)
        }
        return true
    }

    // MARK: - Relayed sockets

    /// Binds a relayed socket beside the media port (port 0) and watches it; reports back at
    /// once with `.relayBound` or `.relayBindFailed`.
    private func bindRelaySocket(for request: RelayCore.PendingAllocation, relayIP: [UInt8]) {
        let socket: UDPSocket
        do { socket = try media.boundBeside(options: MediaService.relayedSocket) } catch {
            logger.warning("media: cannot bind a relayed socket", metadata: ["error": "\(error)"])
            return handle(.relayBindFailed(request, reason: "\(error)"))
        }
        guard let port = socket.localAddress()?.port else {
            socket.close()
            return handle(.relayBindFailed(request, reason: "the relayed socket has no port"))
        }
        if let failure = watch(socket.descriptor) {
            socket.close()
            return handle(.relayBindFailed(request, reason: "\(failure)"))
        }
        let address = TransportAddress(ip: relayIP, port: port)
        relayed[socket.descriptor] = address
        handle(.relayBound(request, RelaySocket(address: address, socket: socket)))
    }

    /// Closes a relayed socket once what waits for it is sent (its number may be reused).
    private func close(_ socket: RelaySocket) {
        writer.flush()
        epoll_ctl(epoll, EPOLL_CTL_DEL, socket.socket.descriptor, nil)
        relayed.removeValue(forKey: socket.socket.descriptor)
        socket.socket.close()
    }

    private func watch(_ descriptor: Int32) -> SocketError? {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = descriptor
        return epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) == 0 ? nil : .last("epoll_ctl")
    }
}

/// How tasks off the media thread — TURN over TCP/TLS, the clock — hand it events. Each
/// delivery waits until the loop has applied it, so a stream's reader never runs ahead of the
/// loop: at most one frame per connection is in flight.
struct MediaInbox: Sendable {
    let thread: MediaThread

    func deliver(_ event: MediaEvent) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            thread.submit { loop in
                loop?.handle(event)
                done.resume()
            }
        }
    }
}
