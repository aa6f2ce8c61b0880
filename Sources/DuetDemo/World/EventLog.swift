import Synchronization

/// Everything one engine of a demo device reported, with when: the runner's checks read it
/// ("did bob's engine report its keys wiped after the hang-up?") while a task fills it.
final class EventLog<Event: Sendable>: Sendable {
    struct Entry: Sendable {
        let at: ContinuousClock.Instant
        let event: Event
    }

    private let entries = Mutex<[Entry]>([])
    private let reader = Mutex<Task<Void, Never>?>(nil)

    /// Starts recording `stream` (take it before the engine acts, or miss events).
    init(following stream: AsyncStream<Event>) {
        let task = Task { [weak self] in
            for await event in stream {
                guard let self else { return }
                self.entries.withLock { $0.append(Entry(at: .now, event: event)) }
            }
        }
        reader.withLock { $0 = task }
    }

    /// A position to look after, for "since this step".
    var mark: Int { entries.withLock { $0.count } }

    /// The first entry since `mark` that `match` picks out.
    func first<T>(since mark: Int = 0, _ match: (Event) -> T?) -> (at: ContinuousClock.Instant, value: T)? {
        entries.withLock { all in
            for entry in all[min(mark, all.count)...] { if let value = match(entry.event) { return (entry.at, value) } }
            return nil
        }
    }

    /// Every entry since `mark` that `match` picks out.
    func all<T>(since mark: Int = 0, _ match: (Event) -> T?) -> [T] {
        let events = entries.withLock { $0[min(mark, $0.count)...].map(\.event) }
        return events.compactMap(match)
    }

    /// The last entry since `mark` that `match` picks out.
    func last<T>(since mark: Int = 0, _ match: (Event) -> T?) -> T? {
        entries.withLock { all -> T? in
            for entry in all[min(mark, all.count)...].reversed() { if let value = match(entry.event) { return value } }
            return nil
        }
    }

    func stop() {
        reader.withLock { $0?.cancel() }
    }

    deinit { reader.withLock { $0?.cancel() } }
}
