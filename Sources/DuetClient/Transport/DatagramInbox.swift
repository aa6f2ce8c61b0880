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
    /// Rings (at most once pending) when datagrams are waiting.
    private let rings: AsyncStream<Void>
    private let bell: AsyncStream<Void>.Continuation
    /// Held at most; when full, the oldest quarter goes (counted in `dropped`): dropping one at
    /// a time would shift the whole queue for every datagram while the engine is behind.
    let capacity: Int

    init(capacity: Int = 2048) {
        self.capacity = capacity
        (rings, bell) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues one datagram (from the socket's event loop) and rings.
    func deliver(_ datagram: MediaSocket.Datagram) {
        queue.withLock { queue in
            if queue.datagrams.count >= capacity {
                let stale = max(1, capacity / 4)
                queue.datagrams.removeFirst(stale)
                queue.dropped += stale
            }
            queue.datagrams.append(datagram)
        }
        bell.yield()
    }

    /// Everything waiting at each ring, oldest first; ends when the inbox is closed.
    var batches: AsyncMapSequence<AsyncStream<Void>, [MediaSocket.Datagram]> {
        rings.map { [self] in take() }
    }

    private func take() -> [MediaSocket.Datagram] {
        queue.withLock { queue in
            let taken = queue.datagrams
            queue.datagrams = []
            return taken
        }
    }

    /// Datagrams dropped because the engine fell more than `capacity` behind.
    var dropped: Int { queue.withLock { $0.dropped } }

    /// No more datagrams: the engine's loop over `batches` ends.
    func close() { bell.finish() }
}
