import DuetWire
import NIOCore
import Testing

@testable import DuetServer

#if canImport(Glibc)
    import Glibc
#endif

/// The media thread writes a `sockaddr` for every datagram it sends from a TransportAddress'
/// bytes and reads one back for every datagram it receives; TURN over streams reads NIO's
/// socket addresses. Both families must come back as the same address and port.
@Suite("TransportAddress ↔ socket addresses")
struct TransportAddressNIOTests {
    static let addresses = [
        TransportAddress(ipv4: "203.0.113.30", port: 49152)!,
        TransportAddress(ipv4: "198.51.100.7", port: 1)!,
        TransportAddress(literal: "2001:db8::7", port: 65535)!,
        TransportAddress(ipv4: "192.0.2.1", port: 3478)!.mappedToIPv6
    ]

    @Test(arguments: addresses)
    func aSockaddrNamesTheSameAddressAndPort(_ address: TransportAddress) throws {
        var storage = sockaddr_storage()
        let length = address.write(to: &storage)
        #expect(Int(length) == (address.ip.count == 4 ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size))
        #expect(withUnsafeBytes(of: &storage) { TransportAddress(socketAddress: $0) } == address)
    }

    @Test(arguments: addresses)
    func aNIOSocketAddressNamesTheSameAddressAndPort(_ address: TransportAddress) throws {
        let socket = try SocketAddress(packedIPAddress: ByteBuffer(bytes: address.ip), port: Int(address.port))
        #expect(TransportAddress(socket) == address)
    }
}
