import DuetWire
import NIOCore
import Testing

@testable import DuetServer

/// The media port builds a socket address for every datagram it sends from a TransportAddress'
/// bytes: both families must come back as the same address and port.
@Suite("TransportAddress ↔ SocketAddress")
struct TransportAddressNIOTests {
    @Test(arguments: [
        TransportAddress(ipv4: "203.0.113.30", port: 49152)!,
        TransportAddress(ipv4: "198.51.100.7", port: 1)!,
        TransportAddress(literal: "2001:db8::7", port: 65535)!,
        TransportAddress(ipv4: "192.0.2.1", port: 3478)!.mappedToIPv6
    ])
    func aSocketAddressNamesTheSameAddressAndPort(_ address: TransportAddress) throws {
        let socket = address.socketAddress
        #expect(TransportAddress(socket) == address)
        #expect(socket.port == Int(address.port))
        #expect(socket.protocol == (address.ip.count == 4 ? .inet : .inet6))
    }
}
