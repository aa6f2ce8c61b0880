import DuetWire

/// Who is connected right now, and as which key and number (DESIGN §4 "Signaling hub").
/// Nothing here awaits, so no state can change under a method while it runs; the database
/// work that decides *what* to send happens in the connections, before they call in.
actor SignalingHub {
    typealias ConnectionID = Int

    private struct Session {
        let outbox: AsyncStream<ServerFrame>.Continuation
        let close: @Sendable () -> Void
        var key: [UInt8]?
        var number: String?
    }

    private var nextID = 0
    private var sessions: [ConnectionID: Session] = [:]
    /// The connection currently speaking for each registered number.
    private var byNumber: [String: ConnectionID] = [:]
    private var shuttingDown = false

    /// Registers a new connection; during shutdown it is closed at once.
    func add(outbox: AsyncStream<ServerFrame>.Continuation, close: @escaping @Sendable () -> Void) -> ConnectionID {
        nextID += 1
        if shuttingDown { close() }
        sessions[nextID] = Session(outbox: outbox, close: close)
        return nextID
    }

    func authenticated(_ id: ConnectionID, key: [UInt8]) {
        sessions[id]?.key = key
    }

    /// Makes `id` a connection for `number` (the newest one answers requests for it). Returns
    /// whether the number was offline before, so the caller knows to tell its watchers.
    /// One device may hold several connections at once — `duet group remove` run while the same
    /// profile's `duet call` is in progress — and each keeps hearing its number's events.
    func bind(_ id: ConnectionID, number: String) -> Bool {
        guard sessions[id] != nil else { return false }
        let wasOffline = byNumber[number] == nil
        sessions[id]?.number = number
        byNumber[number] = id
        return wasOffline
    }

    /// Forgets a closed connection; returns the number that went offline with it, if any —
    /// none while another connection of that number is still open.
    func remove(_ id: ConnectionID) -> String? {
        guard let session = sessions.removeValue(forKey: id) else { return nil }
        session.outbox.finish()
        guard let number = session.number, byNumber[number] == id else { return nil }
        if let other = sessions.first(where: { $0.value.number == number })?.key {
            byNumber[number] = other
            return nil
        }
        byNumber[number] = nil
        return number
    }

    func isOnline(_ number: String) -> Bool { byNumber[number] != nil }

    /// Queues `message` to every connection authenticated as `key`; false if there is none.
    @discardableResult
    func send(_ message: ServerMessage, toKey key: [UInt8]) -> Bool {
        var sent = false
        for session in sessions.values where session.key == key {
            session.outbox.yield(ServerFrame(id: nil, message: message))
            sent = true
        }
        return sent
    }

    func send(_ message: ServerMessage, toKeys keys: [[UInt8]]) {
        let wanted = Set(keys)
        for session in sessions.values where session.key.map(wanted.contains) == true {
            session.outbox.yield(ServerFrame(id: nil, message: message))
        }
    }

    /// Queues `message` to every connection speaking for `number`; false if there is none.
    @discardableResult
    func send(_ message: ServerMessage, toNumber number: String) -> Bool {
        guard byNumber[number] != nil else { return false }
        for session in sessions.values where session.number == number {
            session.outbox.yield(ServerFrame(id: nil, message: message))
        }
        return true
    }

    /// Graceful shutdown: close every connection and refuse new ones.
    func closeAll() {
        shuttingDown = true
        for session in sessions.values { session.close() }
    }

    var connectionCount: Int { sessions.count }
}
