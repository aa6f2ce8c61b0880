import DuetWire

/// Where a notice for a number or an identity key goes: to this node's connections
/// (`SignalingHub`) and, when this node shares its directory with others (docs/deployment.md),
/// to theirs through `NodeMesh`. Every part of signaling sends through here, so a call signal,
/// a ring or a meeting notice reaches a device whichever node it is connected to.
struct Switchboard: Sendable {
    let hub: SignalingHub
    /// Nil on a server that is its own directory (SQLite): one node, no one else to ask.
    let mesh: NodeMesh?

    func add(_ outbox: SignalingOutbox) async -> SignalingHub.ConnectionID { await hub.add(outbox) }

    func authenticated(_ id: SignalingHub.ConnectionID, key: [UInt8]) async {
        await hub.authenticated(id, key: key)
        // Keeps the number another connection of this key may have published.
        await mesh?.presence.publish(key: key, number: nil, replacing: false)
    }

    /// Makes `id` a connection for `number`; whether the number was offline everywhere before.
    func bind(_ id: SignalingHub.ConnectionID, number: String) async -> Bool {
        let wasOffline = await hub.bind(id, number: number)
        guard let mesh, let key = await hub.key(of: id) else { return wasOffline }
        let elsewhere = await mesh.presence.isOnlineElsewhere(number)
        await mesh.presence.publish(key: key, number: number, replacing: true)
        return wasOffline && !elsewhere
    }

    /// Forgets a closed connection; the number that went offline everywhere with it, if any.
    func remove(_ id: SignalingHub.ConnectionID) async -> String? {
        let departure = await hub.remove(id)
        guard let mesh else { return departure.numberGone }
        if let key = departure.keyGone {
            await mesh.presence.withdraw(key: key)
        } else if departure.numberGone != nil, let key = departure.key {
            // The key stays connected here, no longer as that number.
            await mesh.presence.publish(key: key, number: nil, replacing: true)
        }
        guard let number = departure.numberGone, await !mesh.presence.isOnlineElsewhere(number) else { return nil }
        return number
    }

    /// The other nodes a device of this one may reconnect to (`NodeSiblings`); nil on a
    /// server that is one node, or when there is none.
    func siblings() -> [String]? {
        guard let nodes = mesh?.siblings.current, !nodes.isEmpty else { return nil }
        return nodes
    }

    /// Whether a connection authenticated as `key` is open here or on another node.
    func isConnected(key: [UInt8]) async -> Bool {
        if await hub.isConnected(key: key) { return true }
        return await mesh?.presence.isConnectedElsewhere(key: key) ?? false
    }

    func isOnline(_ number: String) async -> Bool {
        if await hub.isOnline(number) { return true }
        return await mesh?.presence.isOnlineElsewhere(number) ?? false
    }

    /// Queues `message` to every connection speaking for `number`, here or on another node;
    /// false if there is none.
    @discardableResult
    func send(_ message: ServerMessage, toNumber number: String) async -> Bool {
        await !send(message, toNumbers: [number]).isEmpty
    }

    /// Queues `message` to every connection speaking for one of `numbers`, here and on every
    /// other node where one is connected (a device may hold connections on two), encoded once;
    /// the numbers reached.
    @discardableResult
    func send(_ message: ServerMessage, toNumbers numbers: some Sequence<String>) async -> Set<String> {
        let notice = EncodedNotice(message)
        let wanted = Set(numbers)
        var reached = await hub.send(notice, toNumbers: wanted)
        if let mesh, case let .encoded(frame) = notice {
            for case let .number(number) in await mesh.send(frame, to: wanted.sorted().map { .number($0) }) { reached.insert(number) }
        }
        return reached
    }

    /// Queues `message` to every connection authenticated as `key`; false if there is none.
    @discardableResult
    func send(_ message: ServerMessage, toKey key: [UInt8]) async -> Bool {
        await !send(message, toKeys: [key]).isEmpty
    }

    /// Queues `message` to every connection authenticated as one of `keys`, here and on other
    /// nodes; the keys reached.
    @discardableResult
    func send(_ message: ServerMessage, toKeys keys: some Sequence<[UInt8]>) async -> Set<[UInt8]> {
        let notice = EncodedNotice(message)
        let wanted = Set(keys)
        var reached = await hub.send(notice, toKeys: wanted)
        if let mesh, case let .encoded(frame) = notice {
            for case let .key(key) in await mesh.send(frame, to: wanted.map { .key($0) }) { reached.insert(key) }
        }
        return reached
    }

    /// A parcel another node left for a device connected here.
    func deliver(_ parcel: NodeMesh.Parcel) async {
        switch parcel.recipient {
        case let .number(number): await hub.send(.encoded(parcel.frame), toNumbers: [number])
        case let .key(key): await hub.send(.encoded(parcel.frame), toKeys: [key])
        }
    }

    func closeAll() async { await hub.closeAll() }
}
