import DuetWire
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// This node among the others that share its PostgreSQL database (docs/deployment.md "Nodes").
///
/// - It registers in `node` and heartbeats every `heartbeat` (its load with it); any node reaps
///   a node unseen for `deadAfterMilliseconds` (the rows that were its go with it).
/// - It says which identity keys (and numbers) are connected to it in `presence`, so a notice
///   for a device on another node can find that node.
/// - A notice for a device on another node is a `parcel` row (what is sent, encoded once, as the
///   device will receive it) and a NOTIFY on that node's channel to wake it; the node takes its
///   parcels on each wake-up and on each heartbeat, so none is lost when a notification is
///   (across a reconnect of the listening connection). A `NodeRequest` to another node and its
///   answer travel the same way (`ask`, `tell`).
///
/// Times are PostgreSQL's clock, so nodes' clocks need not agree.
final class NodeMesh: Sendable {
    static let heartbeat: Duration = .seconds(2)
    static let deadAfterMilliseconds: Int64 = 5_000
    private static let now = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"

    /// What a node tells the others about itself.
    struct Advertisement: Sendable {
        /// Where devices reach its signaling (HOST:PORT).
        let signaling: String
        /// Where devices send it media (HOST:PORT).
        let media: String
    }

    /// What a node carries, sent with each heartbeat: rooms are placed on the least loaded node.
    struct Load: Sendable {
        var rooms = 0
        var legs = 0
        var cpuPermille = 0
    }

    let id: String
    private let store: PostgresDirectoryStore
    private let logger: Logger
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Questions asked of other nodes, by request id, waiting for their answers.
    private let waiting = Mutex<(next: Int64, answers: [Int64: CheckedContinuation<[UInt8]?, Never>])>((1, [:]))
    /// How long `ask` waits for the other node's answer.
    static let answerTimeout: Duration = .seconds(5)
    /// Set by `start`, once the ports are bound.
    private let advertisement = Mutex(Advertisement(signaling: "", media: ""))

    init(store: PostgresDirectoryStore, logger: Logger) {
        id = (0..<12).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        self.store = store
        self.logger = logger
    }

    /// NOTIFY channel of node `id`.
    private static func channel(_ id: String) -> String { "duet_node_\(id)" }

    /// What a node does with what others send it.
    struct Handlers: Sendable {
        /// Hands a notice to this node's connections.
        let deliver: @Sendable (Parcel) async -> Void
        /// Answers another node's request (nil: nothing to answer).
        let serve: @Sendable (NodeRequest) async -> ServerMessage?
        /// Read at each heartbeat.
        let load: @Sendable () async -> Load
        /// This node's connections, published again if this node was reaped while it stalled.
        let presence: @Sendable () async -> [(key: [UInt8], number: String?)]
    }

    /// Registers this node, then listens and heartbeats until `stop()`.
    func start(advertising advertisement: Advertisement, handlers: Handlers) async throws {
        self.advertisement.withLock { $0 = advertisement }
        try await register()
        let listener = Task { await self.listen(handlers) }
        let beats = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.heartbeat)
                await self.beat(handlers)
            }
        }
        tasks.withLock { $0 = [listener, beats] }
    }

    /// Leaves the mesh: this node's row goes, and with it its presence, parcels and rooms.
    func stop() async {
        for task in tasks.withLock({ $0 }) {
            task.cancel()
            await task.value
        }
        do { try await store.write { tx in try await tx.execute("DELETE FROM node WHERE id = ?", [self.id]) } } catch {
            logger.warning("could not leave the node table", metadata: ["error": "\(PostgresDirectoryStore.describe(error))"])
        }
    }

    private func register() async throws {
        let (id, advertisement) = (id, advertisement.withLock { $0 })
        try await store.write { tx in
            try await tx.execute(
                """
                INSERT INTO node (id, signaling, media, startedAt, seenAt) VALUES (?, ?, ?, \(Self.now), \(Self.now))
                ON CONFLICT (id) DO UPDATE SET seenAt = excluded.seenAt
                """, [id, advertisement.signaling, advertisement.media])
        }
    }

    /// One heartbeat: this node's load and time seen; nodes unseen too long reaped; this node
    /// registered again (with its presence) if it was reaped itself; parcels taken.
    private func beat(_ handlers: Handlers) async {
        let id = id
        let load = await handlers.load()
        do {
            let alive = try await store.write { tx in
                let updated = try await tx.rows(
                    "UPDATE node SET seenAt = \(Self.now), rooms = ?, legs = ?, cpuPermille = ? WHERE id = ? RETURNING id",
                    [load.rooms, load.legs, load.cpuPermille, id])
                try await tx.execute("DELETE FROM node WHERE seenAt < \(Self.now) - ?", [Self.deadAfterMilliseconds])
                return !updated.isEmpty
            }
            if !alive {
                logger.warning("this node was taken for dead (no heartbeat for 5 s); registering again")
                try await register()
                for entry in await handlers.presence() { await publish(key: entry.key, number: entry.number) }
            }
            try await takeParcels(handlers)
        } catch {
            if Task.isCancelled { return }
            logger.warning("heartbeat failed", metadata: ["error": "\(PostgresDirectoryStore.describe(error))"])
        }
    }

    /// Waits for NOTIFYs on this node's channel and takes its parcels at each; reconnects
    /// after a second when the listening connection fails.
    private func listen(_ handlers: Handlers) async {
        while !Task.isCancelled {
            do {
                try await store.client.withConnection { connection in
                    let notifications = try await connection.listen(Self.channel(self.id))
                    // Parcels sent before the LISTEN took effect.
                    try await self.takeParcels(handlers)
                    for try await _ in notifications { try await self.takeParcels(handlers) }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("listening for other nodes failed", metadata: ["error": "\(PostgresDirectoryStore.describe(error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// A notice on its way to a device on another node, exactly as that device will receive it.
    struct Parcel: Sendable {
        enum Recipient: Sendable, Equatable {
            case number(String)
            case key([UInt8])
        }

        let recipient: Recipient
        /// The encoded frame body (`SignalingOutbox.encode`).
        let frame: [UInt8]
    }

    /// Takes this node's parcels, oldest first: notices to its connections, requests to
    /// answer (each in its own task, so a slow one holds up no notice), answers to its questions.
    private func takeParcels(_ handlers: Handlers) async throws {
        let id = id
        let rows = try await store.write { tx in
            try await tx.rows("DELETE FROM parcel WHERE node = ? RETURNING id, kind, toNumber, toKey, requestId, replyTo, body", [id])
        }
        for row in try rows.sorted(by: { try $0.integer("id") < $1.integer("id") }) {
            let body = try row.bytes("body")
            switch try row.text("kind") {
            case "notice":
                let recipient: Parcel.Recipient =
                    if let number = try row.optionalText("toNumber") { .number(number) } else { .key(try row.bytes("toKey")) }
                await handlers.deliver(Parcel(recipient: recipient, frame: body))
            case "request":
                guard let request = try? JSONDecoder().decode(NodeRequest.self, from: Data(body)) else {
                    logger.warning("another node sent a request this node cannot read; ignored")
                    continue
                }
                let (asker, requestID) = (try row.optionalText("replyTo"), try row.value("requestId"))
                Task {
                    let answer = await handlers.serve(request)
                    guard let asker, case let .integer(requestID) = requestID, let answer else { return }
                    await self.post(
                        kind: "reply", to: asker, requestID: requestID, body: SignalingCodec.encode(ServerFrame(id: nil, message: answer)))
                }
            case "reply":
                guard case let .integer(requestID) = row.value("requestId") else { continue }
                answer(requestID, with: body)
            default:
                continue
            }
        }
    }

    // MARK: - Requests to other nodes

    /// Asks node `node` to do `request` and waits (at most `answerTimeout`) for its answer:
    /// nil when none came (the node is gone or stalled).
    func ask(_ node: String, _ request: NodeRequest) async -> ServerMessage? {
        guard let body = try? JSONEncoder().encode(request) else { return nil }
        let requestID = waiting.withLock { state in
            defer { state.next += 1 }
            return state.next
        }
        let answer: [UInt8]? = await withCheckedContinuation { continuation in
            waiting.withLock { $0.answers[requestID] = continuation }
            Task {
                if await !self.post(kind: "request", to: node, requestID: requestID, replyTo: self.id, body: Array(body)) {
                    self.answer(requestID, with: nil)
                }
            }
            Task {
                try? await Task.sleep(for: Self.answerTimeout)
                self.answer(requestID, with: nil)
            }
        }
        guard let answer, let frame = try? ServerFrame.decode(frameBody: answer) else { return nil }
        return frame.message
    }

    /// Tells node `node` to do `request`, without waiting for it.
    func tell(_ node: String, _ request: NodeRequest) async {
        guard let body = try? JSONEncoder().encode(request) else { return }
        await post(kind: "request", to: node, requestID: nil, body: Array(body))
    }

    /// The nodes other than this one that hold rooms now.
    func nodesHoldingRooms() async -> [String] {
        let id = id
        return
            (try? await store.read { tx in
                try await tx.rows("SELECT DISTINCT node FROM room WHERE node != ?", [id]).map { try $0.text("node") }
            }) ?? []
    }

    private func answer(_ requestID: Int64, with body: [UInt8]?) {
        waiting.withLock { $0.answers.removeValue(forKey: requestID) }?.resume(returning: body)
    }

    /// Leaves a parcel of `kind` for `node` and wakes it; whether it was stored.
    @discardableResult
    private func post(kind: String, to node: String, requestID: Int64?, replyTo: String? = nil, body: [UInt8]) async -> Bool {
        do {
            try await store.write { tx in
                try await tx.execute(
                    "INSERT INTO parcel (node, kind, requestId, replyTo, body) VALUES (?, ?, ?, ?, ?)",
                    [node, kind, requestID, replyTo, body])
                try await tx.execute("SELECT pg_notify(?, '')", [Self.channel(node)])
            }
            return true
        } catch {
            logger.warning(
                "could not reach another node", metadata: ["node": "\(node)", "error": "\(PostgresDirectoryStore.describe(error))"])
            return false
        }
    }

    // MARK: - Rooms

    /// The node holding room `id`: the one that holds it already, or the least loaded live
    /// node that is not draining, which claims it now. Nil when the database cannot say.
    func claim(room id: String) async -> String? {
        try? await store.write { tx in
            try await tx.execute(
                """
                INSERT INTO room (id, node, claimedAt)
                SELECT ?, id, \(Self.now) FROM node WHERE draining = 0 AND seenAt > \(Self.now) - ? ORDER BY rooms, random() LIMIT 1
                ON CONFLICT (id) DO NOTHING
                """, [id, Self.deadAfterMilliseconds])
            return try await tx.row("SELECT node FROM room WHERE id = ?", [id])?.text("node")
        }
    }

    /// The node holding room `id`, if one does.
    func holder(of room: String) async -> String? {
        try? await store.read { tx in try await tx.row("SELECT node FROM room WHERE id = ?", [room])?.text("node") }
    }

    /// Room `id` closed on this node.
    func release(room id: String) async {
        let node = self.id
        _ = try? await store.write { tx in try await tx.execute("DELETE FROM room WHERE id = ? AND node = ?", [id, node]) }
    }

    // MARK: - Presence

    /// `key` (as `number`, once it has one) is connected to this node.
    func publish(key: [UInt8], number: String?) async {
        let id = id
        do {
            try await store.write { tx in
                try await tx.execute(
                    """
                    INSERT INTO presence (identityKey, number, node) VALUES (?, ?, ?)
                    ON CONFLICT (identityKey, node) DO UPDATE SET number = excluded.number
                    """, [key, number, id])
            }
        } catch {
            logger.warning("could not publish presence", metadata: ["error": "\(PostgresDirectoryStore.describe(error))"])
        }
    }

    /// `key` has no connection to this node any more.
    func withdraw(key: [UInt8]) async {
        let id = id
        do {
            try await store.write { tx in try await tx.execute("DELETE FROM presence WHERE identityKey = ? AND node = ?", [key, id]) }
        } catch {
            logger.warning("could not withdraw presence", metadata: ["error": "\(PostgresDirectoryStore.describe(error))"])
        }
    }

    /// Whether `number` is connected to another node.
    func isOnlineElsewhere(_ number: String) async -> Bool {
        let id = id
        return
            (try? await store.read { tx in
                try await tx.exists("SELECT 1 FROM presence WHERE number = ? AND node != ?", [number, id])
            }) ?? false
    }

    // MARK: - Sending

    /// Leaves `frame` for every other node where one of `recipients` is connected, and wakes
    /// those nodes; returns the recipients found on some node.
    @discardableResult
    func send(_ frame: [UInt8], to recipients: [Parcel.Recipient]) async -> [Parcel.Recipient] {
        guard !recipients.isEmpty else { return [] }
        let id = id
        do {
            return try await store.write { tx in
                var found: [Parcel.Recipient] = []
                var woken = Set<String>()
                for recipient in recipients {
                    let (column, value): (String, any SQLValueConvertible) =
                        switch recipient {
                        case let .number(number): ("number", number)
                        case let .key(key): ("identityKey", key)
                        }
                    let nodes = try await tx.rows("SELECT DISTINCT node FROM presence WHERE \(column) = ? AND node != ?", [value, id])
                    for node in try nodes.map({ try $0.text("node") }) {
                        let (toNumber, toKey): (String?, [UInt8]?) =
                            switch recipient {
                            case let .number(number): (number, nil)
                            case let .key(key): (nil, key)
                            }
                        try await tx.execute(
                            "INSERT INTO parcel (node, kind, toNumber, toKey, body) VALUES (?, 'notice', ?, ?, ?)",
                            [node, toNumber, toKey, frame])
                        woken.insert(node)
                    }
                    if !nodes.isEmpty { found.append(recipient) }
                }
                // Delivered at commit, once per node however many parcels it got.
                for node in woken { try await tx.execute("SELECT pg_notify(?, '')", [Self.channel(node)]) }
                return found
            }
        } catch {
            logger.warning("could not send to other nodes", metadata: ["error": "\(PostgresDirectoryStore.describe(error))"])
            return []
        }
    }
}
