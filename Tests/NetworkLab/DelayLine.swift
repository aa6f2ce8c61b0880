import CNetworkLab
import Foundation
import Synchronization

/// Delay between two segments, made in user space because this kernel has no netem: a
/// namespace with one interface on each segment, no IP of its own, and a thread that reads
/// every Ethernet frame arriving on one side (AF_PACKET) and writes it out of the other after
/// holding it `oneWay`. The segments are then one Ethernet with a slow wire between them.
///
/// The sockets are opened inside the namespace (the thread enters it, opens them, and
/// returns); reading and writing them works from anywhere after that. Frames larger than the
/// interface MTU (a sender's segmentation offload) cannot be written: every host the lab plugs
/// has offloads turned off for that reason.
public final class DelayLine: Sendable {
    private let sockets: (Int32, Int32)
    private let running = Flag()
    private let finished = DispatchSemaphore(value: 0)

    /// Set while the forwarding thread should go on.
    private final class Flag: Sendable {
        let value = Atomic<Bool>(true)
    }

    init(namespace: String, oneWay: Duration) throws {
        sockets = try Self.openSockets(in: namespace)
        let delay = Double(oneWay.components.seconds) + Double(oneWay.components.attoseconds) / 1e18
        let worker = Thread { [sockets, running, finished] in
            Self.forward(sockets, delay: delay, running: running)
            finished.signal()
        }
        worker.name = "delay-line \(namespace)"
        worker.start()
    }

    /// Stops forwarding and closes the sockets (the namespace goes with the lab).
    public func stop() {
        guard running.value.exchange(false, ordering: .relaxed) else { return }
        finished.wait()
        close(sockets.0)
        close(sockets.1)
    }

    deinit { stop() }

    /// Opens an AF_PACKET socket on eth0 and one on eth1 of `namespace`, from inside it.
    private static func openSockets(in namespace: String) throws -> (Int32, Int32) {
        let (a, b) = try NetworkLab.inside(namespace) { (cnetworklab_packet_socket("eth0"), cnetworklab_packet_socket("eth1")) }
        guard a >= 0, b >= 0 else {
            if a >= 0 { close(a) }
            if b >= 0 { close(b) }
            throw NetworkLab.CommandFailure(command: ["AF_PACKET", namespace], output: String(cString: strerror(errno)))
        }
        return (a, b)
    }

    /// The loop: frames in from either side, out of the other once their time has come.
    private static func forward(_ sockets: (Int32, Int32), delay: Double, running: Flag) {
        var held: [(due: Double, to: Int32, frame: [UInt8])] = []  // in arrival order, so in due order
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var polled = [pollfd(fd: sockets.0, events: Int16(POLLIN), revents: 0), pollfd(fd: sockets.1, events: Int16(POLLIN), revents: 0)]
        while running.value.load(ordering: .relaxed) {
            let now = Date().timeIntervalSince1970
            while let first = held.first, first.due <= now {
                _ = first.frame.withUnsafeBytes { send(first.to, $0.baseAddress, first.frame.count, 0) }
                held.removeFirst()
            }
            let wait = held.first.map { max(0, Int32(($0.due - now) * 1000)) } ?? 50
            guard poll(&polled, 2, min(wait, 50)) > 0 else { continue }
            for (index, entry) in polled.enumerated() where entry.revents & Int16(POLLIN) != 0 {
                var outgoing: Int32 = 0
                let count = buffer.withUnsafeMutableBytes { cnetworklab_receive(entry.fd, $0.baseAddress, $0.count, &outgoing) }
                // What this line itself sent out of that side comes back as "outgoing": not a new frame.
                guard count > 0, outgoing == 0 else { continue }
                held.append((Date().timeIntervalSince1970 + delay, index == 0 ? sockets.1 : sockets.0, Array(buffer[0..<count])))
            }
        }
    }
}

extension NetworkLab {
    /// Runs `body` on this thread inside `namespace`'s network namespace, then comes back:
    /// sockets `body` opens belong to that namespace for good, wherever they are used.
    public static func inside<T>(_ namespace: String, _ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY)
        let target = open("/run/netns/\(namespace)", O_RDONLY)
        defer {
            close(original)
            close(target)
        }
        guard original >= 0, target >= 0, cnetworklab_enter_net_namespace(target) == 0 else {
            throw CommandFailure(command: ["setns", namespace], output: String(cString: strerror(errno)))
        }
        defer { _ = cnetworklab_enter_net_namespace(original) }
        return try body()
    }

    /// Joins `a` and `b` through a delay line holding each frame `oneWay` (the round trip
    /// across it is twice that). Stop it with `stop()` or let the lab's teardown end it.
    public func delayLine(_ name: String, between a: Segment, and b: Segment, oneWay: Duration) throws -> DelayLine {
        let host = try link(name, to: [a, b])
        return try DelayLine(namespace: host.namespace, oneWay: oneWay)
    }
}
