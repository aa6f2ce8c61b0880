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
    static let now = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"

    /// What a node tells the others about itself.
    struct Advertisement: Sendable {
        /// Where devices reach its signaling (HOST:PORT).
        let signaling: String
        /// Where devices send it media (HOST:PORT).
        let media: String
        /// The fingerprint of the certificate its signaling serves with: nodes that share one
        /// are handed to devices as places to reconnect (`NodeSiblings`).
        let certificate: String
    }

    let id: String
    /// Which node holds which room (group calls and meetings).
    let rooms: RoomClaims
    /// Where each connected key is.
    let presence: PresenceTable
    let store: PostgresDirectoryStore
    private let logger: Logger
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Questions asked of other nodes, by request id, waiting for their answers.
    private let waiting = Mutex<(next: Int64, answers: [Int64: CheckedContinuation<[UInt8]?, Never>])>((1, [:]))
    /// How long `ask` waits for the other node's answer.
    static let answerTimeout: Duration = .seconds(5)
    /// One take of parcels at a time (the listener and the poll both take); a take asked for
    /// while one runs makes that one go round again.
    private let taking = Mutex((running: false, again: false))
    /// Requests from other nodes, served one at a time in the order they came.
    private let requests = AsyncStream.makeStream(of: Request.self)

    /// A request of another node's: the node it came from, and the id its answer carries
    /// (nil: told, not asked).
    struct Request: Sendable {
        let request: NodeRequest
        let origin: String?
        let requestID: Int64?
    }

    private let cpuMeter = CPUMeter()
    /// The other nodes this node names to its devices.
    let siblings = NodeSiblings()
    /// What `noteDraining` said last.
    private let drainNoted = Mutex((draining: false, drained: false))
    /// Set by `start`, once the ports are bound.
    private let advertisement = Mutex(Advertisement(signaling: "", media: "", certificate: ""))

    init(store: PostgresDirectoryStore, logger: Logger) {
        let id = (0..<12).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        self.id = id
        rooms = RoomClaims(store: store, node: id, logger: logger)
        presence = PresenceTable(store: store, node: id, logger: logger)
        self.store = store
        self.logger = logger
    }

    /// NOTIFY channel of node `id`.
    private static func channel(_ id: String) -> String { "duet_node_\(id)" }

    /// What a node does with what others send it.
    struct Handlers: Sendable {
        /// Hands a notice to this node's connections.
        let deliver: @Sendable (Parcel) async -> Void
        /// Answers a request from another node (its id given; nil: nothing to answer).
        let serve: @Sendable (NodeRequest, String?) async -> ServerMessage?
        /// Read at each heartbeat.
        let load: @Sendable () async -> NodeLoad
        /// This node's connections, published again if this node was reaped while it stalled.
        let presence: @Sendable () async -> [(key: [UInt8], number: String?)]
        /// The rooms open on this node, claimed again if this node was reaped while it stalled.
        let rooms: @Sendable () async -> [String]
        /// The nodes alive after each heartbeat's reaping (this one among them).
        let alive: @Sendable (Set<String>) async -> Void
        /// `siblings` changed: tell this node's devices.
        let siblingsChanged: @Sendable ([String]) async -> Void
    }

    /// Registers this node, then listens and heartbeats until `stop()`.
    func start(advertising advertisement: Advertisement, handlers: Handlers) async throws {
        self.advertisement.withLock { $0 = advertisement }
        try await register()
        // Devices logging in before the first heartbeat learn the other nodes too.
        let rows = try await store.read { tx in try await tx.rows("SELECT \(NodeSiblings.columns) FROM node", []) }
        _ = try siblings.update(from: rows, of: id, advertising: advertisement)
        let listener = Task { await self.listen(handlers) }
        // The heartbeat alone in its task: slow parcels or requests never make it late.
        let beats = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.heartbeat)
                await self.beat(handlers)
            }
        }
        // Parcels whose notification was lost (the listening connection reconnected).
        let poll = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.heartbeat)
                await self.takeParcels(handlers)
            }
        }
        let server = Task {
            for await request in self.requests.stream { await self.serve(request, handlers) }
        }
        tasks.withLock { $0 = [listener, beats, poll, server] }
    }

    /// Leaves the mesh: this node's row goes, and with it its presence, parcels and rooms.
    func stop() async {
        // The listener, heartbeat and poll first, so no request is taken and then dropped;
        // then the request server finishes what it was given.
        let all = tasks.withLock { $0 }
        for task in all.dropLast() {
            task.cancel()
            await task.value
        }
        requests.continuation.finish()
        await all.last?.value
        do { try await store.write { tx in try await tx.execute("DELETE FROM node WHERE id = ?", [self.id]) } } catch {
            logger.warning("could not leave the node table", metadata: ["error": "\(PostgresDirectoryStore.describe(error))"])
        }
    }

    /// Says once when an operator drained this node (`duet server drain`), and once when its
    /// last room has closed.
    private func noteDraining(_ draining: Bool, rooms: Int) {
        let said = drainNoted.withLock { noted -> (started: Bool, drained: Bool) in
            defer { noted = (draining, draining && rooms == 0) }
            return (draining && !noted.draining, draining && rooms == 0 && !noted.drained)
        }
        if said.started { logger.notice("draining: this node takes no new rooms; \(rooms) room(s) still open") }
        if said.drained { logger.notice("drained: no rooms left on this node; it can be stopped") }
    }

    private func register() async throws {
        let (id, advertisement) = (id, advertisement.withLock { $0 })
        // A node registering again after a stall keeps draining if it was.
        let draining = drainNoted.withLock { $0.draining } ? 1 : 0
        try await store.write { tx in
            try await tx.execute(
                """
                INSERT INTO node (id, signaling, media, certificate, draining, startedAt, seenAt)
                VALUES (?, ?, ?, ?, ?, \(Self.now), \(Self.now))
                ON CONFLICT (id) DO UPDATE SET seenAt = excluded.seenAt
                """, [id, advertisement.signaling, advertisement.media, advertisement.certificate, draining])
        }
    }

    /// One heartbeat: this node's load and time seen; nodes unseen too long reaped; this node
    /// registered again (with its presence) if it was reaped itself; parcels taken.
    private func beat(_ handlers: Handlers) async {
        let id = id
        var measured = await handlers.load()
        measured.cpuPermille = cpuMeter.permilleSinceLastReading()
        let load = measured
        do {
            let (updated, live) = try await store.write { tx in
                let updated = try await tx.row(
                    "UPDATE node SET seenAt = \(Self.now), rooms = ?, legs = ?, cpuPermille = ? WHERE id = ? RETURNING draining",
                    [load.rooms, load.legs, load.cpuPermille, id])
                try await tx.execute("DELETE FROM node WHERE seenAt < \(Self.now) - ?", [Self.deadAfterMilliseconds])
                let live = try await tx.rows("SELECT \(NodeSiblings.columns) FROM node", [])
                return (updated, live)
            }
            if let changed = try siblings.update(from: live, of: id, advertising: advertisement.withLock { $0 }) {
                await handlers.siblingsChanged(changed)
            }
            await handlers.alive(Set(try live.map { try $0.text("id") }).union([id]))
            if let draining = try updated?.integer("draining") { noteDraining(draining != 0, rooms: load.rooms) }
            if updated == nil {
                logger.warning("this node was taken for dead (no heartbeat for 5 s); registering again")
                try await register()
                for entry in await handlers.presence() { await presence.publish(key: entry.key, number: entry.number, replacing: true) }
                await rooms.reclaim(await handlers.rooms())
            }
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
                    await self.takeParcels(handlers)
                    for try await _ in notifications { await self.takeParcels(handlers) }
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

    /// Takes this node's parcels, one take at a time.
    private func takeParcels(_ handlers: Handlers) async {
        let first = taking.withLock { state in
            if state.running { state.again = true }
            defer { state.running = true }
            return !state.running
        }
        guard first else { return }
        repeat {
            taking.withLock { $0.again = false }
            do { try await takeOnce(handlers) } catch {
                logger.warning("could not take parcels", metadata: ["error": "\(PostgresDirectoryStore.describe(error))"])
            }
        } while taking.withLock({ state in
            if !state.again { state.running = false }
            return state.again
        })
    }

    /// Takes this node's parcels, oldest first: notices to its connections, requests to the
    /// one request server (in order), answers to its questions. A row it cannot read is
    /// logged and skipped; the rest are handled.
    private func takeOnce(_ handlers: Handlers) async throws {
        let id = id
        // Handled inside the transaction that deletes them: a take that fails or outlasts the
        // store's patience rolls back, and the parcels are taken again (delivered twice, at worst,
        // never lost).
        try await store.write { tx in
            let rows = try await tx.rows(
                "DELETE FROM parcel WHERE node = ? RETURNING id, kind, toNumber, toKey, requestId, replyTo, body", [id])
            for row in rows.sorted(by: { (try? $0.integer("id")) ?? 0 < (try? $1.integer("id")) ?? 0 }) { await self.handle(row, handlers) }
        }
    }

    /// One parcel: a notice to this node's connections, a request for the one request server
    /// (in order), an answer to a question. One this node cannot read is logged and skipped.
    private func handle(_ row: SQLRow, _ handlers: Handlers) async {
        do {
            let body = try row.bytes("body")
            switch try row.text("kind") {
            case "notice":
                let recipient: Parcel.Recipient =
                    if let number = try row.optionalText("toNumber") { .number(number) } else { .key(try row.bytes("toKey")) }
                await handlers.deliver(Parcel(recipient: recipient, frame: body))
            case "request":
                let request = try JSONDecoder().decode(NodeRequest.self, from: Data(body))
                let requestID: Int64? = if case let .integer(value) = row.value("requestId") { value } else { nil }
                requests.continuation.yield(Request(request: request, origin: try row.optionalText("replyTo"), requestID: requestID))
            case "reply":
                answer(try row.integer("requestId"), with: body)
            case let kind:
                logger.warning("a parcel of an unknown kind was skipped", metadata: ["kind": "\(kind)"])
            }
        } catch {
            logger.warning("a parcel this node cannot read was skipped", metadata: ["error": "\(error)"])
        }
    }

    /// Serves one request of another node's and, when it asked, posts the answer back.
    private func serve(_ request: Request, _ handlers: Handlers) async {
        let answer = await handlers.serve(request.request, request.origin)
        guard let asker = request.origin, let requestID = request.requestID, let answer else { return }
        await post(kind: "reply", to: asker, requestID: requestID, body: SignalingCodec.encode(ServerFrame(id: nil, message: answer)))
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
        let timer = Task {
            try? await Task.sleep(for: Self.answerTimeout)
            self.answer(requestID, with: nil)
        }
        defer { timer.cancel() }
        let answer: [UInt8]? = await withCheckedContinuation { continuation in
            waiting.withLock { $0.answers[requestID] = continuation }
            Task {
                if await !self.post(kind: "request", to: node, requestID: requestID, body: Array(body)) {
                    self.answer(requestID, with: nil)
                }
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

    private func answer(_ requestID: Int64, with body: [UInt8]?) {
        waiting.withLock { $0.answers.removeValue(forKey: requestID) }?.resume(returning: body)
    }

    /// Leaves a parcel of `kind` for `node`, from this node, and wakes it; whether it was stored.
    @discardableResult
    private func post(kind: String, to node: String, requestID: Int64?, body: [UInt8]) async -> Bool {
        let origin = id
        do {
            try await store.write { tx in
                try await tx.execute(
                    "INSERT INTO parcel (node, kind, requestId, replyTo, body) VALUES (?, ?, ?, ?, ?)",
                    [node, kind, requestID, origin, body])
                try await tx.execute("SELECT pg_notify(?, '')", [Self.channel(node)])
            }
            return true
        } catch {
            logger.warning(
                "could not reach another node", metadata: ["node": "\(node)", "error": "\(PostgresDirectoryStore.describe(error))"])
            return false
        }
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
