import CDuetSocket
import DuetWire

#if canImport(Glibc)
    import Glibc
#endif

/// The media thread's outgoing datagrams, to any of its sockets, gathered between flushes and
/// sent with one `sendmmsg` per socket and up to `capacity` datagrams (docs/server.md "The
/// media port's thread"). Its memory is allocated once: at most `capacity` datagrams and
/// `byteCapacity` bytes wait at a time, and one that does not fit flushes what waits first.
///
/// A socket whose kernel send buffer is full (EAGAIN) loses the rest of what waits for it, as a
/// full link loses datagrams: nothing is queued past the kernel, so memory stays bounded.
/// A datagram the kernel refuses alone (no route, a firewall's EPERM, an address of the other
/// family) is skipped and the rest still go.
final class DatagramWriter {
    /// Why datagrams were not sent, for the media port's counts.
    struct Losses: Equatable {
        /// The socket's send buffer was full.
        var socketFull = 0
        /// The kernel refused the datagram itself.
        var refused = 0
    }

    let capacity: Int
    let byteCapacity: Int
    private let bytes: UnsafeMutableRawPointer
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private let vectors: UnsafeMutablePointer<iovec>
    private let messages: UnsafeMutablePointer<duet_mmsghdr>
    /// Where `flush` lays the messages out by socket.
    private let sorted: UnsafeMutablePointer<duet_mmsghdr>
    /// Per waiting datagram: its socket, in the order written.
    private var sockets: [Int32]
    private var order: [Int]
    private var used = 0
    private(set) var losses = Losses()

    var isEmpty: Bool { sockets.isEmpty }

    init(capacity: Int, byteCapacity: Int) {
        self.capacity = capacity
        self.byteCapacity = byteCapacity
        bytes = .allocate(byteCount: byteCapacity, alignment: 16)
        addresses = .allocate(capacity: capacity)
        vectors = .allocate(capacity: capacity)
        messages = .allocate(capacity: capacity)
        sorted = .allocate(capacity: capacity)
        sockets = []
        sockets.reserveCapacity(capacity)
        order = []
        order.reserveCapacity(capacity)
    }

    deinit {
        bytes.deallocate()
        addresses.deallocate()
        vectors.deallocate()
        messages.deallocate()
        sorted.deallocate()
    }

    /// Adds a datagram of `size` bytes for `address` from `socket`, which `fill` writes into
    /// the buffer it is given (exactly `size` bytes). False when it can never fit.
    @discardableResult
    func append(
        to address: TransportAddress, from socket: UDPSocket, size: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> Bool {
        guard size <= byteCapacity else { return false }
        if sockets.count == capacity || used + size > byteCapacity { flush() }
        let index = sockets.count
        let length = address.write(to: addresses + index)
        fill(UnsafeMutableRawBufferPointer(start: bytes + used, count: size))
        vectors[index] = iovec(iov_base: bytes + used, iov_len: size)
        var header = msghdr()
        header.msg_name = UnsafeMutableRawPointer(addresses + index)
        header.msg_namelen = length
        header.msg_iov = vectors + index
        header.msg_iovlen = 1
        messages[index] = duet_mmsghdr(header: header, length: 0)
        sockets.append(socket.descriptor)
        used += size
        return true
    }

    /// Sends what waits: each socket's datagrams in the order they were written.
    func flush() {
        guard !sockets.isEmpty else { return }
        // Sorted by socket, then by when written: each socket's run goes in one call, in order.
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: sockets.indices)
        if sockets.contains(where: { $0 != sockets[0] }) {
            order.sort { sockets[$0] != sockets[$1] ? sockets[$0] < sockets[$1] : $0 < $1 }
            // sendmmsg takes one array: the run's messages are laid out in order first.
            for (position, index) in order.enumerated() { sorted[position] = messages[index] }
            messages.update(from: sorted, count: sockets.count)
        }
        var start = 0
        while start < order.count {
            let socket = sockets[order[start]]
            var end = start
            while end < order.count, sockets[order[end]] == socket { end += 1 }
            send(socket, messages + start, count: end - start)
            start = end
        }
        sockets.removeAll(keepingCapacity: true)
        used = 0
    }

    private func send(_ socket: Int32, _ run: UnsafeMutablePointer<duet_mmsghdr>, count: Int) {
        var next = 0
        while next < count {
            let sent = duet_sendmmsg(socket, run + next, UInt32(count - next), 0)
            if sent > 0 {
                next += Int(sent)
                continue
            }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK, ENOBUFS:
                losses.socketFull += count - next
                return
            default:
                losses.refused += 1
                next += 1
            }
        }
    }
}
