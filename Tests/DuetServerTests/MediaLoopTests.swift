import DuetMedia
import DuetWire
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import DuetServer

/// The media loop's writes (docs/server.md "Who owns the relay state"): a socket whose sends
/// cannot keep up — NIO's write queue past its high watermark — gets no more datagrams queued;
/// they are dropped and counted, so a member who sends faster than the link costs the server
/// no memory.
@Suite("Media loop")
struct MediaLoopTests {
    static let client = TransportAddress(ipv4: "198.51.100.7", port: 50000)!

    func loop(on channel: EmbeddedChannel) throws -> MediaLoop {
        let router = MediaRouter(
            credentials: MediaRouterFuzzTests.credentials, nonce: "n1",
            sfu: SFUPort(certificate: try DTLSCertificate(), announced: AnnouncedLegs()))
        let advertisement = MediaAdvertisement(publicIP: nil, bound: HostPort(host: "203.0.113.30", port: 7401), boundIP: [203, 0, 113, 30])
        return MediaLoop(router: router, media: channel, host: "203.0.113.30", advertisement: advertisement, logger: Logger(label: "test"))
    }

    @Test func aSocketThatCannotSendDropsAndCountsInsteadOfQueueing() throws {
        let channel = EmbeddedChannel()
        let loop = try loop(on: channel)
        let binding = MediaRouterFuzzTests.request(.binding, signed: false, tag: 1)

        channel.isWritable = false
        for _ in 0..<3 { loop.handle(.fromClient(binding, Self.client)) }
        loop.flush()
        #expect(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) == nil)

        channel.isWritable = true
        loop.handle(.fromClient(binding, Self.client))
        loop.flush()
        let answer = try #require(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self))
        #expect(TransportAddress(answer.remoteAddress) == Self.client)
        #expect(try STUNMessage(parsing: Array(answer.data.readableBytesView)).messageClass == .success)

        let counts = loop.stop()
        #expect(counts[MediaCount.notSentSocketFull.label] == 3)
        #expect(counts[MediaCount.stunBinding.label] == 4)
    }
}

/// The media service ends when its task is cancelled — as ServiceGroup cancels every service
/// when another one ends — instead of waiting for a socket nobody will close.
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
        #expect(!bound.channel.isActive)
    }
}
