import DuetWire
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain non-blocking UDP socket on the loopback for the forwarding benches (`ForwardBench`,
/// `RelayCoturnBench`): what a device's media socket is to the server, without an event loop
/// in between, so the generator sends and the receivers count at the cost of a system call.
/// Its receive buffer is forced large (the bench runs as root; otherwise the kernel caps it at
/// net.core.rmem_max): a receiver that falls behind for a moment must not lose what the server
/// forwarded, or the figure would count the bench's loss as the server's.
final class LoopbackSocket: Sendable {
    let descriptor: Int32
    let address: TransportAddress

    init(receiveBuffer: Int32 = 8 << 20) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw CallSetupBench.BenchFailure("socket(): errno \(errno)") }
        var size = receiveBuffer
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var local = Self.socketAddress(TransportAddress(ip: Loopback.ipv4Bytes, port: 0))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &local) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else {
            let code = errno
            Glibc.close(descriptor)
            throw CallSetupBench.BenchFailure("binding a loopback UDP socket: errno \(code)")
        }
        self.descriptor = descriptor
        address = TransportAddress(ip: Loopback.ipv4Bytes, port: UInt16(bigEndian: local.sin_port))
    }

    deinit { Glibc.close(descriptor) }

    /// The kernel's form of an IPv4 `TransportAddress`.
    static func socketAddress(_ address: TransportAddress) -> sockaddr_in {
        var result = sockaddr_in()
        result.sin_family = sa_family_t(AF_INET)
        result.sin_port = address.port.bigEndian
        let ip = address.unmappedIPv4?.ip ?? address.ip
        withUnsafeMutableBytes(of: &result.sin_addr) { $0.copyBytes(from: ip.prefix(4)) }
        return result
    }

    /// Sends one datagram; false if the kernel refused it (its send buffer full, for instance).
    @discardableResult
    func send(_ bytes: UnsafeRawBufferPointer, to destination: inout sockaddr_in) -> Bool {
        withUnsafePointer(to: &destination) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == bytes.count
    }

    @discardableResult
    func send(_ bytes: [UInt8], to destination: TransportAddress) -> Bool {
        var to = Self.socketAddress(destination)
        return bytes.withUnsafeBytes { send($0, to: &to) }
    }

    /// One waiting datagram into `buffer`: its length, or nil when none waits.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let count = recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
        return count >= 0 ? count : nil
    }

    /// The sockets of `sockets` (their indices) with a datagram waiting, after waiting up to
    /// `milliseconds` for one.
    static func readable(_ sockets: [LoopbackSocket], milliseconds: Int32) -> [Int] {
        var waiting = sockets.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
        guard poll(&waiting, nfds_t(waiting.count), milliseconds) > 0 else { return [] }
        return waiting.indices.filter { waiting[$0].revents & Int16(POLLIN) != 0 }
    }

    /// One waiting datagram with its sender, or nil when none waits (the benches' setup steps:
    /// STUN, TURN and DTLS exchanges).
    func receiveWithSender() -> (bytes: [UInt8], from: TransportAddress)? {
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        var bytes = [UInt8](repeating: 0, count: 2048)
        let count = bytes.withUnsafeMutableBytes { buffer in
            withUnsafeMutablePointer(to: &from) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT), $0, &length)
                }
            }
        }
        guard count >= 0 else { return nil }
        let ip = withUnsafeBytes(of: from.sin_addr) { Array($0) }
        return (Array(bytes.prefix(count)), TransportAddress(ip: ip, port: UInt16(bigEndian: from.sin_port)))
    }
}

/// Runs blocking work (a socket loop) on a thread of its own, off the cooperative pool: on two
/// cores the pool has two threads, and the devices' signaling must keep running beside it.
func onThread<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.start()
    }
}
