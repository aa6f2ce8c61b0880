import DuetMedia
import DuetWire
import NIOCore
import Testing

@testable import DuetServer

/// A leg to the SFU through the server's own relay (docs/networking.md "Legs to the SFU"): a
/// device whose network lets no UDP out allocates over TCP and binds a channel to the media
/// port; the relay hands what comes through it to the SFU in-process and the SFU's answers back
/// through the allocation — DTLS and SRTP only, never STUN or TURN (no allocation from an
/// allocation), and only for the media port's own addresses.
@Suite("Relay to the SFU")
struct RelayToSFUTests {
    static let client = TransportAddress(ipv4: "198.51.100.7", port: 50000)!
    static let relayed = TransportAddress(ipv4: "203.0.113.30", port: 49152)!
    static let media = TransportAddress(ipv4: "203.0.113.30", port: 7401)!

    /// A router with one allocation for `client` and a channel (0x4001) to `peer`.
    func allocated(to peer: TransportAddress) throws -> MediaRouter {
        var router = MediaRouter(
            credentials: MediaRouterFuzzTests.credentials, nonce: "n1",
            sfu: SFUPort(certificate: try DTLSCertificate(), announced: AnnouncedLegs()),
            sfuAddresses: SFUAddresses(port: 7401, ips: [Self.media.ip]))
        let allocate = MediaRouterFuzzTests.request(.allocate, [.requestedTransportUDP], tag: 3)
        guard case let .bindRelaySocket(request)? = router.handle(.fromClient(allocate, Self.client), now: 1).first else {
            throw RelayToSFUFailure("no allocation")
        }
        _ = router.handle(.relayBound(request, RelaySocket(address: Self.relayed, socket: UDPSocket(descriptor: -1, isIPv6: false))), now: 1)
        let bind = MediaRouterFuzzTests.request(.channelBind, [.channelNumber(0x4001)], peer: peer, tag: 8)
        let answer = router.handle(.fromClient(bind, Self.client), now: 1)
        guard case let .sendToClient(_, bytes)? = answer.first, (try? STUNMessage(parsing: bytes))?.messageClass == .success else {
            throw RelayToSFUFailure("channel not bound: \(answer)")
        }
        return router
    }

    @Test func aClientHelloThroughTheRelayIsAnsweredByTheSFUThroughTheRelay() throws {
        var router = try allocated(to: Self.media)
        let hello = try MediaRouterFuzzTests.helloAndMedia()[0]
        let outputs = router.handle(.fromClient(ChannelData(channel: 0x4001, payload: hello).encoded, Self.client), now: 2)
        let answers = outputs.compactMap { output -> [UInt8]? in
            guard case let .sendToClient(to, bytes) = output, to == Self.client else { return nil }
            return try? ChannelData(parsing: bytes).payload
        }
        #expect(answers.contains { MediaPacketKind(datagram: $0) == .dtls }, "\(outputs)")
        #expect(!outputs.contains { if case .sendToPeer = $0 { true } else { false } }, "went out to the network: \(outputs)")
        #expect(router.counts["DTLS through the relay"] == 1)
    }

    @Test func stunAndTURNThroughTheRelayToTheMediaPortAreDropped() throws {
        var router = try allocated(to: Self.media)
        let allocate = MediaRouterFuzzTests.request(.allocate, [.requestedTransportUDP], tag: 4)
        let binding = MediaRouterFuzzTests.request(.binding, signed: false, tag: 1)
        for payload in [allocate, binding] {
            let outputs = router.handle(.fromClient(ChannelData(channel: 0x4001, payload: payload).encoded, Self.client), now: 2)
            #expect(outputs.isEmpty, "\(outputs)")
        }
        #expect(router.counts["not DTLS or SRTP to the SFU through the relay (dropped)"] == 2)
        #expect(router.allocationCount == 1)
    }

    @Test func anotherPortOfTheServerIsNotTheSFU() throws {
        let elsewhere = TransportAddress(ipv4: "203.0.113.30", port: 7400)!
        var router = try allocated(to: elsewhere)
        let hello = try MediaRouterFuzzTests.helloAndMedia()[0]
        let outputs = router.handle(.fromClient(ChannelData(channel: 0x4001, payload: hello).encoded, Self.client), now: 2)
        #expect(outputs.contains { if case let .sendToPeer(_, to, _) = $0 { to == elsewhere } else { false } }, "\(outputs)")
        #expect(router.counts["DTLS through the relay"] == nil)
    }
}

struct RelayToSFUFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
