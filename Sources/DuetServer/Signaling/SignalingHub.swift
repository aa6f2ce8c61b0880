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

    /// What a closed connection leaves behind.
    struct Departure: Sendable {
        /// The key it was authenticated as.
        var key: [UInt8]?
        /// That key, when no other connection has it.
        var keyGone: [UInt8]?
        /// The number that went offline with it, if any — none while another connection of
        /// that number is still open.
        var numberGone: String?
    }

    /// Forgets a closed connection.
    func remove(_ id: ConnectionID) -> Departure {
        guard let session = sessions.removeValue(forKey: id) else { return Departure() }
        session.outbox.finish()
        var departure = Departure(key: session.key)
        if let key = session.key, !sessions.values.contains(where: { $0.key == key }) { departure.keyGone = key }
        guard let number = session.number, byNumber[number] == id else { return departure }
        if let other = sessions.first(where: { $0.value.number == number })?.key {
            byNumber[number] = other
            return departure
        }
        byNumber[number] = nil
        departure.numberGone = number
        return departure
    }

    /// The key connection `id` authenticated as.
    func key(of id: ConnectionID) -> [UInt8]? { sessions[id]?.key }

    /// Every authenticated connection's key and number, for another node to find them.
    var presence: [(key: [UInt8], number: String?)] {
        sessions.values.compactMap { session in session.key.map { ($0, session.number) } }
    }

    func isOnline(_ number: String) -> Bool { byNumber[number] != nil }

    /// Whether a connection here is authenticated as `key`.
    func isConnected(key: [UInt8]) -> Bool { sessions.values.contains { $0.key == key } }

    /// Queues an encoded notice (`Switchboard.encode`) to every connection authenticated as one
    /// of `keys`; the keys that have one here.
    @discardableResult
    func send(_ frame: EncodedNotice, toKeys keys: some Sequence<[UInt8]>) -> Set<[UInt8]> {
        let wanted = Set(keys)
        let reached = sessions.values.filter { $0.key.map(wanted.contains) == true }
        deliver(frame, to: reached.map(\.outbox))
        return Set(reached.compactMap(\.key))
    }

    /// Queues an encoded notice to every connection speaking for one of `numbers`, encoded once
    /// for all: a room change goes to every member of a group, and encoding it per member (the
    /// group and its vouches, several kilobytes) was most of a join's cost on the server. The
    /// numbers that have a connection here.
    @discardableResult
    func send(_ frame: EncodedNotice, toNumbers numbers: some Sequence<String>) -> Set<String> {
        let wanted = Set(numbers).filter { byNumber[$0] != nil }
        deliver(frame, to: sessions.values.filter { $0.number.map(wanted.contains) == true }.map(\.outbox))
        return wanted
    }

    /// Queues an encoded notice to every logged-in connection.
    func sendToAll(_ frame: EncodedNotice) {
        deliver(frame, to: sessions.values.filter { $0.key != nil }.map(\.outbox))
    }

    /// Graceful shutdown: close every connection and refuse new ones.
    func closeAll() {
        shuttingDown = true
        for session in sessions.values { session.outbox.closeConnection() }
    }

    var connectionCount: Int { sessions.count }

    /// Queues one notice to several connections, encoded once for all of them.
    private func deliver(_ notice: EncodedNotice, to outboxes: [SignalingOutbox]) {
        switch notice {
        case let .encoded(bytes): for outbox in outboxes { outbox.send(encoded: bytes) }
        // Each closes its connection, as for any oversized reply.
        case let .oversized(frame): for outbox in outboxes { outbox.send(frame) }
        }
    }
}

/// A notice encoded once for all its recipients, here and on other nodes; one too large for a
/// frame stays a frame, which closes each connection it is sent to.
enum EncodedNotice: Sendable {
    case encoded([UInt8])
    case oversized(ServerFrame)

    init(_ message: ServerMessage) {
        let frame = ServerFrame(id: nil, message: message)
        self = SignalingOutbox.encode(frame).map(Self.encoded) ?? .oversized(frame)
    }
}
