import Synchronization

/// Everyone following one engine's events, each with a stream of their own: a UI and a log
/// (or the demo's checks and the TUI showing the same device) can follow one engine without
/// taking events from each other, as two readers of one `AsyncStream` would. The one event
/// API of the 1:1, group and meeting engines (each one's `events`).
final class EventSubscribers<Event: Sendable>: Sendable {
    private let streams = Mutex<[Int: AsyncStream<Event>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    /// A new stream of every event yielded from now on.
    func subscribe() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(4096))
        let id = nextID.add(1, ordering: .relaxed).newValue
        continuation.onTermination = { [weak self] _ in
            _ = self?.streams.withLock { $0.removeValue(forKey: id) }
        }
        streams.withLock { $0[id] = continuation }
        return stream
    }

    func yield(_ event: Event) {
        for continuation in streams.withLock({ Array($0.values) }) { continuation.yield(event) }
    }

    func finish() {
        for continuation in streams.withLock({ Array($0.values) }) { continuation.finish() }
    }
}
