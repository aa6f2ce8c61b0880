import CDuetSocket
import DuetWire

#if canImport(Glibc)
    import Glibc
#endif

/// A failed system call on one of the media thread's descriptors: which call, and errno (or,
/// for a name that did not resolve, the resolver's reason).
struct SocketError: Error, Equatable, CustomStringConvertible {
    let call: String
    let code: Int32
    var reason: String?

    /// The last call's failure, as errno has it now.
    static func last(_ call: String) -> SocketError { SocketError(call: call, code: errno) }

    var description: String { "\(call): \(reason ?? String(cString: strerror(code)))" }
}

/// A nonblocking UDP socket of the media port or of a relayed allocation, read and written by
/// the media thread alone (`MediaThread`). A plain descriptor: whoever binds one closes it.
struct UDPSocket: Hashable, Sendable {
    let descriptor: Int32
    /// Whether it is an IPv6 socket: bound to `::` it serves IPv4 too (`dualStack`).
    let isIPv6: Bool

    /// What a new socket is given.
    struct Options: Sendable {
        var receiveBuffer: Int32
        var sendBuffer: Int32
        var reuseAddress = false
        /// Which local address each datagram was sent to (`DatagramBatch.destination`).
        var packetInfo = false
    }

    /// Binds `host` (an IP or a name the resolver knows) and `port`; on an IPv6 host, IPv4 too.
    static func bound(host: String, port: Int, options: Options) throws(SocketError) -> UDPSocket {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        defer { if let list { freeaddrinfo(list) } }
        guard resolved == 0, let first = list, let address = first.pointee.ai_addr else {
            let reason = resolved == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(resolved))
            throw SocketError(call: "cannot resolve \(host)", code: resolved, reason: reason)
        }
        return try bound(to: address, length: first.pointee.ai_addrlen, options: options)
    }

    /// A new socket on this one's local address with a port the kernel picks (a relayed
    /// socket beside the media port: no name lookup).
    func boundBeside(options: Options) throws(SocketError) -> UDPSocket {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        try withUnsafeMutableBytes(of: &storage) { (raw) throws(SocketError) in
            let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
            guard getsockname(descriptor, address, &length) == 0 else { throw .last("getsockname") }
        }
        if isIPv6 {
            withUnsafeMutableBytes(of: &storage) { $0.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port = 0 }
        } else {
            withUnsafeMutableBytes(of: &storage) { $0.baseAddress!.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port = 0 }
        }
        return try withUnsafeBytes(of: &storage) { (raw) throws(SocketError) in
            try Self.bound(to: raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length: length, options: options)
        }
    }

    private static func bound(to address: UnsafePointer<sockaddr>, length: socklen_t, options: Options) throws(SocketError) -> UDPSocket {
        let family = Int32(address.pointee.sa_family)
        let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .last("socket") }
        let socket = UDPSocket(descriptor: descriptor, isIPv6: family == AF_INET6)
        do throws(SocketError) {
            if socket.isIPv6 { try socket.set(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0, "IPV6_V6ONLY") }
            if options.reuseAddress { try socket.set(SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR") }
            try socket.set(SOL_SOCKET, SO_RCVBUF, options.receiveBuffer, "SO_RCVBUF")
            try socket.set(SOL_SOCKET, SO_SNDBUF, options.sendBuffer, "SO_SNDBUF")
            if options.packetInfo, duet_enable_packet_info(descriptor, socket.isIPv6 ? 1 : 0) != 0 { throw SocketError.last("IP_PKTINFO") }
            guard bind(descriptor, address, length) == 0 else { throw SocketError.last("bind") }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    private func set(_ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws(SocketError) {
        var value = value
        guard setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .last("setsockopt \(label)")
        }
    }

    /// Where the socket is bound (the port the kernel picked for port 0).
    func localAddress() -> TransportAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutableBytes(of: &storage) {
            getsockname(descriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
        }
        guard named == 0 else { return nil }
        return withUnsafeBytes(of: &storage) { TransportAddress(socketAddress: $0) }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}

extension TransportAddress {
    /// The address in a `sockaddr_in` or `sockaddr_in6` (the bytes of a `sockaddr_storage`);
    /// nil for any other family.
    init?(socketAddress raw: UnsafeRawBufferPointer) {
        switch Int32(raw.load(as: sa_family_t.self)) {
        case AF_INET:
            let v4 = raw.load(as: sockaddr_in.self)
            self.init(ip: withUnsafeBytes(of: v4.sin_addr) { Array($0) }, port: UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            let v6 = raw.load(as: sockaddr_in6.self)
            self.init(ip: withUnsafeBytes(of: v6.sin6_addr) { Array($0) }, port: UInt16(bigEndian: v6.sin6_port))
        default:
            return nil
        }
    }

    /// Writes the address as a `sockaddr_in` or `sockaddr_in6` at `storage`; returns its length.
    func write(to storage: UnsafeMutablePointer<sockaddr_storage>) -> socklen_t {
        let raw = UnsafeMutableRawPointer(storage)
        if ip.count == 4 {
            let v4 = raw.assumingMemoryBound(to: sockaddr_in.self)
            v4.pointee = sockaddr_in()
            v4.pointee.sin_family = sa_family_t(AF_INET)
            v4.pointee.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &v4.pointee.sin_addr) { $0.copyBytes(from: ip) }
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let v6 = raw.assumingMemoryBound(to: sockaddr_in6.self)
        v6.pointee = sockaddr_in6()
        v6.pointee.sin6_family = sa_family_t(AF_INET6)
        v6.pointee.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &v6.pointee.sin6_addr) { $0.copyBytes(from: ip) }
        return socklen_t(MemoryLayout<sockaddr_in6>.size)
    }
}
