import DuetWire
import Foundation
import Testing

/// The media port's TCP side (TURN over TCP and TLS, `RelayStreams`) against what a stranger
/// can send it: it answers TURN, closes on anything else, and caps connections per address.
@Suite("TURN streams on the media port", .serialized)
struct RelayStreamTests {
    /// A blocking TCP connection to `port` on loopback.
    final class TCP {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        }

        func write(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) } }

        /// What arrives before the peer closes or 5 s pass; `closed` is true if it closed.
        func read(upTo count: Int = 4096) -> (bytes: [UInt8], closed: Bool) {
            var buffer = [UInt8](repeating: 0, count: count)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count, 0) }
            return n > 0 ? (Array(buffer[0..<n]), false) : ([], n == 0)
        }

        deinit { close(fd) }
    }

    @Test func aBindingOverTCPIsAnsweredWithTheConnectionsAddress() async throws {
        let server = try await TestServer.start()
        let tcp = try TCP(port: server.app.mediaAddress.port)
        let request = STUNMessage(method: .binding, messageClass: .request, transactionID: [UInt8](repeating: 3, count: 12))
        tcp.write(request.encoded())
        let answer = tcp.read()
        let message = try STUNMessage(parsing: answer.bytes)
        #expect(message.messageClass == .success && message.transactionID == request.transactionID)
        #expect(try message.address(.xorMappedAddress)?.ip == [127, 0, 0, 1])
        try await server.stop()
    }

    /// Anything that is neither STUN nor ChannelData ends the connection, and so does a TLS
    /// handshake that is not one; the port goes on.
    @Test func garbageOnAStreamClosesItAndNothingElse() async throws {
        let server = try await TestServer.start()
        let tcp = try TCP(port: server.app.mediaAddress.port)
        tcp.write([0xFF] + Array("garbage".utf8))
        #expect(tcp.read().closed, "the server kept a connection that does not speak TURN")
        let fakeTLS = try TCP(port: server.app.mediaAddress.port)
        fakeTLS.write([0x16, 0x03, 0x01, 0x00, 0x08] + [UInt8](repeating: 0xEE, count: 8))
        var closed = false
        for _ in 0..<3 where !closed { closed = fakeTLS.read().closed }  // an alert may come first
        #expect(closed, "the server kept a connection whose TLS handshake is garbage")
        let again = try TCP(port: server.app.mediaAddress.port)
        again.write(STUNMessage(method: .binding, messageClass: .request, transactionID: [UInt8](repeating: 4, count: 12)).encoded())
        #expect(!again.read().bytes.isEmpty, "a new connection is still answered")
        try await server.stop()
    }

    /// One address holds at most `maximumPerAddress` (16) connections; the next is closed at once.
    @Test func oneAddressCannotHoldMoreThanItsShareOfConnections() async throws {
        let server = try await TestServer.start()
        var held: [TCP] = []
        for _ in 0..<16 {
            let tcp = try TCP(port: server.app.mediaAddress.port)
            tcp.write(STUNMessage(method: .binding, messageClass: .request, transactionID: [UInt8](repeating: 5, count: 12)).encoded())
            #expect(!tcp.read().bytes.isEmpty)
            held.append(tcp)
        }
        let extra = try TCP(port: server.app.mediaAddress.port)
        #expect(extra.read().closed, "a 17th connection from one address was kept")
        held.removeAll()
        try await server.stop()
    }
}
