import Synchronization

/// Everyone following one engine's events, each with a stream of their own: a UI and a log
/// (or the demo's checks and the TUI showing the same device) can follow one engine without
/// taking events from each other, as two readers of one `AsyncStream` would.
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

/// An engine's event output: its own `events` stream (buffered from the engine's start, so
/// its owner misses nothing), plus any later subscribers.
struct EventFanOut<Event: Sendable>: Sendable {
    let primary: AsyncStream<Event>.Continuation
    let subscribers = EventSubscribers<Event>()

    /// The primary stream and its fan-out.
    static func make() -> (AsyncStream<Event>, EventFanOut) {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(1024))
        return (stream, EventFanOut(primary: continuation))
    }

    func yield(_ event: Event) {
        primary.yield(event)
        subscribers.yield(event)
    }

    func finish() {
        primary.finish()
        subscribers.finish()
    }
}
