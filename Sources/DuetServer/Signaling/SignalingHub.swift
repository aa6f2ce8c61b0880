import DuetWire

/// Who is connected right now, and as which key and number (docs/server.md).
/// Nothing here awaits, so no state can change under a method while it runs; the database
/// work that decides *what* to send happens in the connections, before they call in.
actor SignalingHub {
    typealias ConnectionID = Int

    private struct Session {
        let outbox: SignalingOutbox
        var key: [UInt8]?
        var number: String?
    }

    private var nextID = 0
    private var sessions: [ConnectionID: Session] = [:]
    /// The connection currently speaking for each registered number.
    private var byNumber: [String: ConnectionID] = [:]
    private var shuttingDown = false

    /// Registers a new connection; during shutdown it is closed at once.
    func add(_ outbox: SignalingOutbox) -> ConnectionID {
        nextID += 1
        if shuttingDown { outbox.closeConnection() }
        sessions[nextID] = Session(outbox: outbox)
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
        let outboxes = sessions.values.filter { $0.key == key }.map(\.outbox)
        deliver(message, to: outboxes)
        return !outboxes.isEmpty
    }

    func send(_ message: ServerMessage, toKeys keys: [[UInt8]]) {
        let wanted = Set(keys)
        deliver(message, to: sessions.values.filter { $0.key.map(wanted.contains) == true }.map(\.outbox))
    }

    /// Queues `message` to every connection speaking for `number`; false if there is none.
    @discardableResult
    func send(_ message: ServerMessage, toNumber number: String) -> Bool {
        guard byNumber[number] != nil else { return false }
        deliver(message, to: sessions.values.filter { $0.number == number }.map(\.outbox))
        return true
    }

    /// Queues `message` to every connection speaking for one of `numbers`, encoded once: a room
    /// change goes to every member of a group, and encoding it per member (the group and its
    /// vouches, several kilobytes) was most of a join's cost on the server.
    func send(_ message: ServerMessage, toNumbers numbers: some Sequence<String>) {
        let wanted = Set(numbers)
        deliver(message, to: sessions.values.filter { $0.number.map(wanted.contains) == true }.map(\.outbox))
    }

    /// Graceful shutdown: close every connection and refuse new ones.
    func closeAll() {
        shuttingDown = true
        for session in sessions.values { session.outbox.closeConnection() }
    }

    var connectionCount: Int { sessions.count }

    /// Queues one notice to several connections, encoded once for all of them.
    private func deliver(_ message: ServerMessage, to outboxes: [SignalingOutbox]) {
        guard !outboxes.isEmpty else { return }
        let frame = ServerFrame(id: nil, message: message)
        guard let encoded = SignalingOutbox.encode(frame) else {
            for outbox in outboxes { outbox.send(frame) }  // each closes its connection, as for any oversized reply
            return
        }
        for outbox in outboxes { outbox.send(encoded: encoded) }
    }
}
