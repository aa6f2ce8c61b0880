import Synchronization

/// Datagrams from a socket waiting for an engine's actor, taken a batch at a time. The socket's
/// event loop appends and rings; the engine wakes once for however many arrived and takes them
/// all in one turn on its actor. A stream of single datagrams instead costs the engine a turn of
/// the cooperative pool each — on a busy machine (the load bench: a hundred devices on two
/// cores) a turn waits tens of milliseconds, and a 32-member call's 1 550 datagrams a second
/// piled up and were dropped.
final class DatagramInbox: Sendable {
    private struct Queue {
        var datagrams: [MediaSocket.Datagram] = []
        var dropped = 0
    }

    private let queue = Mutex(Queue())
    private let bell: AsyncStream<Void>.Continuation
    /// Rings (at most once pending) when datagrams are waiting.
    let rings: AsyncStream<Void>
    /// Held at most; when full the oldest goes (counted in `dropped`).
    let capacity: Int

    init(capacity: Int = 2048) {
        self.capacity = capacity
        (rings, bell) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues one datagram (from the socket's event loop) and rings.
    func deliver(_ datagram: MediaSocket.Datagram) {
        queue.withLock { queue in
            if queue.datagrams.count >= capacity {
                queue.datagrams.removeFirst()
                queue.dropped += 1
            }
            queue.datagrams.append(datagram)
        }
        bell.yield()
    }

    /// Everything waiting, oldest first.
    func take() -> [MediaSocket.Datagram] {
        queue.withLock { queue in
            defer { queue.datagrams.removeAll(keepingCapacity: true) }
            return queue.datagrams
        }
    }

    /// Datagrams dropped because the engine fell more than `capacity` behind.
    var dropped: Int { queue.withLock { $0.dropped } }

    /// No more datagrams: the engine's loop over `rings` ends.
    func close() { bell.finish() }
}
