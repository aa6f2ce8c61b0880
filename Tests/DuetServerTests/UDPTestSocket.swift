import DuetClient
import DuetWire
import Foundation
import NIOCore
import NIOPosix
import Synchronization

@testable import DuetServer

/// A real UDP socket on loopback for tests: send, and wait (with a generous upper bound) for
/// the next datagram that a test cares about.
final class UDPTestSocket: Sendable {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let received = Mutex<[(from: TransportAddress, bytes: [UInt8])]>([])

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard let from = TransportAddress(envelope.remoteAddress) else { return }
            let bytes = Array(envelope.data.readableBytesView)
            received.withLock { $0.append((from, bytes)) }
        }
    }

    private let channel: any Channel
    private let collector: Collector
    let address: TransportAddress

    private init(channel: any Channel, collector: Collector, address: TransportAddress) {
        self.channel = channel
        self.collector = collector
        self.address = address
    }

    /// Binds on `host` (any 127.x.y.z works on Linux loopback: another IP for permission tests).
    static func bind(host: String = Loopback.ipv4) async throws -> UDPTestSocket {
        let collector = Collector()
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { $0.pipeline.addHandler(collector) }
            .bind(host: host, port: 0).get()
        return UDPTestSocket(channel: channel, collector: collector, address: TransportAddress(channel.localAddress!)!)
    }

    func send(_ bytes: [UInt8], to destination: TransportAddress) async throws {
        try await channel.writeAndFlush(
            AddressedEnvelope(
                remoteAddress: try SocketAddress(packedIPAddress: ByteBuffer(bytes: destination.ip), port: Int(destination.port)),
                data: ByteBuffer(bytes: bytes)))
    }

    /// Removes and returns the first datagram `matching`, waiting up to `timeout` for one.
    func receive(timeout: Duration = .seconds(10), matching: (TransportAddress, [UInt8]) -> Bool = { _, _ in true })
        async -> (from: TransportAddress, bytes: [UInt8])?
    {
        let deadline = ContinuousClock.now + timeout
        repeat {
            let found = collector.received.withLock { list -> (from: TransportAddress, bytes: [UInt8])? in
                guard let index = list.firstIndex(where: { matching($0.from, $0.bytes) }) else { return nil }
                return list.remove(at: index)
            }
            if let found { return found }
            try? await Task.sleep(for: .milliseconds(5))
        } while ContinuousClock.now < deadline
        return nil
    }

    /// Everything received so far, emptied.
    func drain() -> [(from: TransportAddress, bytes: [UInt8])] {
        collector.received.withLock { list in
            defer { list = [] }
            return list
        }
    }

    func close() async {
        try? await channel.close()
    }
}

/// Drives a `RelayClient` against a TURN server over a real UDP socket: sends what it asks
/// to, feeds it the server's answers and ticks its clock, until `done` says so (or a generous
/// bound passes). Relayed media is kept aside for the test to read.
struct RelayClientDriver {
    var client: RelayClient
    let socket: UDPTestSocket
    let server: TransportAddress
    private(set) var events: [RelayClient.Action] = []
    private(set) var media: [(peer: TransportAddress, payload: [UInt8])] = []

    init(client: RelayClient, socket: UDPTestSocket, server: TransportAddress) {
        self.client = client
        self.socket = socket
        self.server = server
    }

    var failure: String? {
        for case let .failed(reason) in events { return reason }
        return nil
    }

    mutating func start() async throws { try await perform(client.start(now: Self.now)) }

    mutating func permit(_ peer: TransportAddress) async throws { try await perform(client.permit(peer, now: Self.now)) }

    mutating func release() async throws { try await perform(client.release(now: Self.now)) }

    func send(_ payload: [UInt8], to peer: TransportAddress) async throws {
        try await socket.send(client.wrap(payload, to: peer), to: server)
    }

    /// Runs until `done(self)` or a failure, for at most `timeout`. True if `done` held.
    mutating func run(timeout: Duration = .seconds(15), until done: (RelayClientDriver) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if done(self) { return true }
            if failure != nil { return false }
            if let (from, bytes) = await socket.receive(timeout: .milliseconds(50)), from == server {
                if let relayed = client.unwrap(bytes) {
                    media.append(relayed)
                } else {
                    try await perform(client.receive(bytes, now: Self.now))
                }
            }
            try await perform(client.tick(now: Self.now))
        }
        return done(self)
    }

    private mutating func perform(_ actions: [RelayClient.Action]) async throws {
        for action in actions {
            if case let .send(bytes) = action { try await socket.send(bytes, to: server) } else { events.append(action) }
        }
    }

    static var now: Double { Date().timeIntervalSince1970 }
}
