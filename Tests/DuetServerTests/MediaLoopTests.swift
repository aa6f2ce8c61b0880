import DuetMedia
import DuetWire
import Foundation
import Logging
import NetworkLab
import Synchronization
import Testing

@testable import DuetServer

#if canImport(Glibc)
    import Glibc
#endif

/// The media thread's datagram I/O on real sockets (docs/server.md "The media port's thread"):
/// one `sendmmsg` per socket a round wrote, in order; a datagram the kernel refuses costs only
/// itself; a socket whose send buffer stays full loses datagrams instead of holding the thread
/// or queueing them; the writer's memory is fixed (it sends when full rather than growing); a
/// read takes a batch with each datagram's source and destination.
@Suite("Media datagrams")
struct MediaDatagramTests {
    static let options = UDPSocket.Options(receiveBuffer: 1 << 20, sendBuffer: 1 << 20, packetInfo: true)

    static func socket() throws -> UDPSocket {
        try UDPSocket.bound(host: Loopback.ipv4, port: 0, options: options)
    }

    /// Reads `count` datagrams from `socket`, waiting up to 5 s for them.
    static func receive(_ count: Int, on socket: UDPSocket) throws -> [(from: TransportAddress, bytes: [UInt8])] {
        let batch = DatagramBatch(capacity: 64, slice: 2048)
        var received: [(from: TransportAddress, bytes: [UInt8])] = []
        let deadline = ContinuousClock.now + .seconds(5)
        while received.count < count, ContinuousClock.now < deadline {
            var ready = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) > 0 else { continue }
            for index in 0..<(try batch.read(from: socket)) {
                received.append((try #require(batch.source(index)), Array(try #require(batch.payload(index)))))
            }
        }
        return received
    }

    @Test func eachSocketsDatagramsLeaveInOrderAndARefusedOneCostsOnlyItself() throws {
        let (first, second, receiver) = (try Self.socket(), try Self.socket(), try Self.socket())
        defer { [first, second, receiver].forEach { $0.close() } }
        let to = try #require(receiver.localAddress())
        let writer = DatagramWriter(capacity: 16, byteCapacity: 4096)
        // An IPv6 destination from an IPv4 socket: the kernel refuses that one datagram.
        let unreachable = TransportAddress(ip: [UInt8](repeating: 0, count: 15) + [1], port: 9)
        let plan: [(UDPSocket, TransportAddress, UInt8)] = [
            (second, to, 1), (first, to, 2), (first, unreachable, 99), (second, to, 3), (first, to, 4)
        ]
        for (socket, address, tag) in plan { writer.append(to: address, from: socket, size: 3) { $0.copyBytes(from: [tag, tag, tag]) } }
        writer.flush()
        #expect(writer.isEmpty)

        let received = try Self.receive(4, on: receiver)
        let tags = { (from: UDPSocket) in received.filter { $0.from == from.localAddress() }.map { $0.bytes[0] } }
        #expect(tags(first) == [2, 4])
        #expect(tags(second) == [1, 3])
        #expect(received.allSatisfy { $0.bytes.count == 3 })
        #expect(writer.losses == DatagramWriter.Losses(socketFull: 0, refused: 1))
    }

    @Test func aFullWriterSendsWhatWaitsInsteadOfGrowing() throws {
        let (sender, receiver) = (try Self.socket(), try Self.socket())
        defer { [sender, receiver].forEach { $0.close() } }
        let to = try #require(receiver.localAddress())
        // Room for 4 datagrams or 64 bytes: 3 of 20 bytes fit, 25 need 9 sends.
        let writer = DatagramWriter(capacity: 4, byteCapacity: 64)
        for tag in 0..<25 { writer.append(to: to, from: sender, size: 20) { $0.initializeMemory(as: UInt8.self, repeating: UInt8(tag)) } }
        #expect(!writer.append(to: to, from: sender, size: 65) { _ in Issue.record("an oversized datagram was written") })
        writer.flush()
        #expect(try Self.receive(25, on: receiver).map { $0.bytes } == (0..<25).map { [UInt8](repeating: UInt8($0), count: 20) })
    }

    /// A member who sends more than the server's link carries: what waits in the link's queue
    /// stays charged to the sending socket, so its send buffer fills. The send that finds it
    /// full fails at once (the sockets never block) and what still waits for that socket is
    /// dropped and counted — the thread goes on, and nothing is queued in the process. (A
    /// blocking send would wait here the minute the link takes to drain, and lose nothing.)
    @Test(.enabled(if: NetworkLab.unavailableReason == nil, "\(NetworkLab.unavailableReason ?? "")"))
    func aSocketWhoseSendBufferStaysFullLosesTheRestOfTheRound() throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        let segment = try lab.segment()
        let server = try lab.host("server", on: segment, address: "192.0.2.10/24")
        let member = try lab.host("member", on: segment, address: "192.0.2.20/24")
        // 8 kbit/s out of the server, with room to queue a megabyte: the queue, not a drop, is what fills.
        _ = try lab.run(
            ["tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "8kbit", "burst", "1600", "limit", "1048576"], in: server)
        let sender = try NetworkLab.inside(server.namespace) {
            try UDPSocket.bound(host: server.address, port: 0, options: UDPSocket.Options(receiveBuffer: 1 << 16, sendBuffer: 4096))
        }
        defer { sender.close() }
        let writer = DatagramWriter(capacity: 64, byteCapacity: 1 << 16)
        let to = try #require(TransportAddress(ipv4: member.address, port: 9))
        for _ in 0..<64 { writer.append(to: to, from: sender, size: 1000) { $0.initializeMemory(as: UInt8.self, repeating: 1) } }
        writer.flush()
        // A few fit the send buffer; the first that does not waits, fails, and takes the rest with it.
        #expect(writer.losses.socketFull > 0 && writer.losses.socketFull < 64, "\(writer.losses)")
        #expect(writer.losses.refused == 0)
        #expect(writer.isEmpty)
    }

    @Test func aReadTakesABatchWithSourcesAndDestinationsAndDropsWhatWasCutShort() throws {
        let (sender, receiver) = (try Self.socket(), try Self.socket())
        defer { [sender, receiver].forEach { $0.close() } }
        let to = try #require(receiver.localAddress())
        let writer = DatagramWriter(capacity: 8, byteCapacity: 8192)
        for size in [10, 3000, 20] { writer.append(to: to, from: sender, size: size) { $0.initializeMemory(as: UInt8.self, repeating: 7) } }
        writer.flush()

        let batch = DatagramBatch(capacity: 8, slice: 2048)
        var ready = pollfd(fd: receiver.descriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 5000) == 1)
        // Loopback delivers in the sending call: all three are there.
        #expect(try batch.read(from: receiver) == 3)
        #expect(batch.payload(0)?.count == 10)
        #expect(batch.payload(1) == nil, "a datagram longer than the slice was handed on cut short")
        #expect(batch.payload(2)?.count == 20)
        #expect(batch.source(2) == sender.localAddress())
        #expect(batch.destination(2) == to.ip)
        #expect(try batch.read(from: receiver) == 0)
    }
}

extension MediaDatagramTests {
    /// Bound to `::`, the port serves IPv4 too: an IPv4 datagram's source comes mapped
    /// (::ffff:a.b.c.d) and its destination, the relay's announced IP when bound to every
    /// interface, reads back as that IPv4 address once unmapped.
    @Test func aDualStackSocketReadsIPv4SourcesAndDestinations() throws {
        let dual = try UDPSocket.bound(host: "::", port: 0, options: Self.options)
        let sender = try Self.socket()
        defer { [dual, sender].forEach { $0.close() } }
        #expect(dual.isIPv6)
        let port = try #require(dual.localAddress()).port
        let writer = DatagramWriter(capacity: 4, byteCapacity: 4096)
        writer.append(to: TransportAddress(ip: Loopback.ipv4Bytes, port: port), from: sender, size: 1) { $0[0] = 42 }
        writer.flush()
        let batch = DatagramBatch(capacity: 4, slice: 2048)
        var ready = pollfd(fd: dual.descriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 5000) == 1)
        #expect(try batch.read(from: dual) == 1)
        let source = try #require(batch.source(0))
        #expect(source.ip.count == 16 && source.unmappedIPv4 == sender.localAddress())
        let destination = TransportAddress(ip: try #require(batch.destination(0)), port: 0)
        #expect((destination.unmappedIPv4 ?? destination).ip == Loopback.ipv4Bytes)
    }

    /// The whole port on `::`: an IPv4 client's Binding is answered, from the IPv4 address it
    /// sent to, with its own IPv4 address.
    @Test func aServiceBoundToEveryInterfaceAnswersAnIPv4Client() async throws {
        let bound = try await MediaService.bindSocket(HostPort(host: "::", port: 0))
        let advertisement = MediaAdvertisement(publicIP: nil, bound: bound.address, boundIP: bound.ip)
        let service = MediaService(
            bound: bound, advertisement: advertisement, credentials: MediaRouterFuzzTests.credentials,
            certificate: try DTLSCertificate(), announcedLegs: AnnouncedLegs(), logger: Logger(label: "test"))
        let running = Task { try? await service.run() }
        defer { running.cancel() }
        let client = try await UDPTestSocket.bind()
        defer { Task { await client.close() } }
        let media = TransportAddress(ip: Loopback.ipv4Bytes, port: UInt16(bound.address.port))
        #expect(try await MediaPortTests.reflexiveAddress(of: client, media: media) == client.address)
    }
}

/// The media service ends when its task is cancelled — as ServiceGroup cancels every service
/// when another one ends — instead of waiting for a socket nobody will close, and lets its
/// port go.
@Suite("Media service")
struct MediaServiceTests {
    @Test func cancellingTheServiceClosesThePortAndReturns() async throws {
        let bound = try await MediaService.bindSocket(.loopback(port: 0))
        let advertisement = MediaAdvertisement(publicIP: nil, bound: bound.address, boundIP: bound.ip)
        let service = MediaService(
            bound: bound, advertisement: advertisement, credentials: MediaRouterFuzzTests.credentials,
            certificate: try DTLSCertificate(), announcedLegs: AnnouncedLegs(), logger: Logger(label: "test"))
        let returned = Mutex(false)
        let running = Task {
            try? await service.run()
            returned.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(200))
        running.cancel()
        // Polled with a deadline only so a regression fails instead of hanging the suite: the
        // service returns at once.
        let deadline = ContinuousClock.now + .seconds(20)
        while !returned.withLock({ $0 }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(returned.withLock { $0 }, "the media service did not return after its task was cancelled")
        // Without SO_REUSEADDR a second socket binds the port only once the first has let it go.
        let again = try UDPSocket.bound(
            host: bound.address.host, port: bound.address.port, options: UDPSocket.Options(receiveBuffer: 1 << 16, sendBuffer: 1 << 16))
        again.close()
    }
}
