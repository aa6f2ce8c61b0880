import DuetWire
import NIOCore
import Testing

@testable import DuetServer

/// What devices are told to send media to (docs/networking.md "Addresses"): never a wildcard.
@Suite("Media advertisement")
struct MediaAdvertisementTests {
    let seen = try! SocketAddress(ipAddress: "198.51.100.4", port: 7400)

    @Test func aPublicAddressWinsOverEverything() {
        let advertisement = MediaAdvertisement(
            publicIP: [203, 0, 113, 30], bound: HostPort(host: "0.0.0.0", port: 7401), boundIP: [0, 0, 0, 0])
        #expect(advertisement.media(seenAt: seen) == HostPort(host: "203.0.113.30", port: 7401))
        #expect(advertisement.relayIP(arrivedAt: [192, 0, 2, 130]) == [203, 0, 113, 30])
        #expect(advertisement.summary == "203.0.113.30:7401")
    }

    @Test func aServerBoundToOneAddressAdvertisesIt() {
        let advertisement = MediaAdvertisement(publicIP: nil, bound: HostPort(host: "192.0.2.5", port: 7401), boundIP: [192, 0, 2, 5])
        #expect(advertisement.media(seenAt: seen) == HostPort(host: "192.0.2.5", port: 7401))
        #expect(advertisement.relayIP(arrivedAt: [198, 51, 100, 4]) == [192, 0, 2, 5])
    }

    /// Bound to every interface: whichever address the device reached, IPv4-mapped or not.
    @Test func aWildcardServerAdvertisesTheAddressEachDeviceReached() throws {
        let advertisement = MediaAdvertisement(
            publicIP: nil, bound: HostPort(host: "::", port: 7401), boundIP: [UInt8](repeating: 0, count: 16))
        #expect(advertisement.media(seenAt: seen) == HostPort(host: "198.51.100.4", port: 7401))
        let mapped = try SocketAddress(ipAddress: "::ffff:198.51.100.4", port: 7400)
        #expect(advertisement.media(seenAt: mapped) == HostPort(host: "198.51.100.4", port: 7401))
        let mappedIP = TransportAddress(ipv4: "203.0.113.10", port: 0)!.mappedToIPv6.ip
        #expect(advertisement.relayIP(arrivedAt: mappedIP) == [203, 0, 113, 10])
        #expect(advertisement.summary.contains("--public-address"))
    }
}
