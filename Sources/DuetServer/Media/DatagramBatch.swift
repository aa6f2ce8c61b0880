import CDuetSocket
import DuetWire

#if canImport(Glibc)
    import Glibc
#endif

/// Memory for one `recvmmsg`: `capacity` datagrams of up to `slice` bytes each, their source
/// addresses and packet info, allocated once and reused by every read of the media thread, so
/// reading costs no allocation. What a read returns is valid until the next read.
///
/// A datagram longer than `slice` is cut short by the kernel (MSG_TRUNC) and dropped here: the
/// port serves nothing that long (`MediaService.readSlice`).
final class DatagramBatch {
    let capacity: Int
    let slice: Int
    private let bytes: UnsafeMutableRawPointer
    private let vectors: UnsafeMutablePointer<iovec>
    private let sources: UnsafeMutablePointer<sockaddr_storage>
    private let controls: UnsafeMutableRawPointer
    private let controlSpace: Int
    private let messages: UnsafeMutablePointer<duet_mmsghdr>
    /// How many datagrams the last read returned.
    private(set) var count = 0

    init(capacity: Int, slice: Int) {
        self.capacity = capacity
        self.slice = slice
        controlSpace = duet_packet_info_space()
        bytes = .allocate(byteCount: capacity * slice, alignment: 16)
        vectors = .allocate(capacity: capacity)
        sources = .allocate(capacity: capacity)
        controls = .allocate(byteCount: capacity * controlSpace, alignment: 16)
        messages = .allocate(capacity: capacity)
        for index in 0..<capacity {
            vectors[index] = iovec(iov_base: bytes + index * slice, iov_len: slice)
        }
    }

    deinit {
        bytes.deallocate()
        vectors.deallocate()
        sources.deallocate()
        controls.deallocate()
        messages.deallocate()
    }

    /// Reads what `socket` holds, up to `capacity` datagrams, without waiting. Nothing to read
    /// is 0; a failure the socket survives (an ICMP error reported on a read) is 0 too.
    func read(from socket: UDPSocket) throws(SocketError) -> Int {
        for index in 0..<capacity {
            var header = msghdr()
            header.msg_name = UnsafeMutableRawPointer(sources + index)
            header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            header.msg_iov = vectors + index
            header.msg_iovlen = 1
            header.msg_control = controls + index * controlSpace
            header.msg_controllen = controlSpace
            messages[index] = duet_mmsghdr(header: header, length: 0)
        }
        while true {
            let read = duet_recvmmsg(socket.descriptor, messages, UInt32(capacity), Int32(MSG_DONTWAIT))
            if read >= 0 {
                count = Int(read)
                return count
            }
            count = 0
            switch errno {
            case EINTR: continue
            // Nothing to read, an ICMP error reported on this read, or the kernel short of
            // memory for a moment: the socket goes on.
            case EAGAIN, EWOULDBLOCK, ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EMSGSIZE, ENOMEM, ENOBUFS: return 0
            default: throw .last("recvmmsg")
            }
        }
    }

    /// The `index`th datagram's bytes; nil when it was cut short.
    func payload(_ index: Int) -> UnsafeRawBufferPointer? {
        let message = messages[index]
        guard message.header.msg_flags & Int32(MSG_TRUNC) == 0 else { return nil }
        return UnsafeRawBufferPointer(start: bytes + index * slice, count: Int(message.length))
    }

    /// Who sent the `index`th datagram.
    func source(_ index: Int) -> TransportAddress? {
        TransportAddress(socketAddress: UnsafeRawBufferPointer(start: sources + index, count: MemoryLayout<sockaddr_storage>.size))
    }

    /// Which local address the `index`th datagram was sent to (with `UDPSocket.Options.packetInfo`).
    func destination(_ index: Int) -> [UInt8]? {
        var address = [UInt8](repeating: 0, count: 16)
        let length = withUnsafePointer(to: messages[index].header) { header in
            address.withUnsafeMutableBufferPointer { duet_packet_destination(header, $0.baseAddress!) }
        }
        return length > 0 ? Array(address.prefix(Int(length))) : nil
    }
}
