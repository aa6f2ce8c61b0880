import DuetCrypto
import DuetWire
import Foundation

/// Why a device could not act on its server. Each says what to do.
public enum DeviceSessionError: Error, Equatable, CustomStringConvertible {
    case noServer
    case notRegistered
    case unknownContact(String)
    case invalidNumber(String)
    case unknownGroup(String)
    case ambiguousGroup(String, ids: [String])
    /// A meeting link with no certificate fingerprint, to a server this profile has no pin for.
    case linkWithoutCertificate(String)
    /// A meeting link whose fingerprint is not the one this profile pins for that server.
    case linkCertificateMismatch(String)

    public var description: String {
        switch self {
        case .noServer: "this profile has no server yet: run 'duet register NUMBER --server HOST:PORT'"
        case .notRegistered: "this device is not registered: run 'duet register NUMBER --server HOST:PORT'"
        case let .unknownContact(number): "\(number) is not in your contacts: add it with 'duet contacts add \(number)'"
        case let .invalidNumber(number): "'\(number)' is not a phone number: write + and 1–15 digits, e.g. +15550100"
        case let .unknownGroup(name): "you are in no group called '\(name)': see duet group list"
        case let .ambiguousGroup(name, ids):
            "you are in several groups called '\(name)'; name one by its id: \(ids.joined(separator: ", "))"
        case let .linkWithoutCertificate(server):
            "the link names no certificate for \(server) and this profile has never used that server: ask for the whole link (it ends in #FINGERPRINT), or compare the fingerprint and pass --accept-certificate"
        case let .linkCertificateMismatch(server):
            "the link names another certificate than the one this profile pins for \(server): the link, or the server, is not what it claims — nothing was sent"
        }
    }
}

/// One device talking to its server: the device store plus a `ServerConnection` whose
/// certificate is pinned on first use (and refused when it changes, as ssh does), with the
/// server's news applied to the store — key changes mark contacts, low prekeys are topped up.
/// The CLI, the TUI, the bots and the demo all act as a device through this type.
public actor DeviceSession {
    public nonisolated let store: DeviceStore
    public nonisolated let connection: ServerConnection
    public nonisolated let server: HostPort
    private var pump: Task<Void, Never>?
    /// Presence as last reported, by number.
    public private(set) var presence: [String: Bool] = [:]
    /// Messages worth showing the user (key changes seen, prekeys uploaded).
    public internal(set) var notices: [Notice] = []
    /// The one conversation this device is in (see `Conversation`).
    public internal(set) var conversation: Conversation = .none
    /// How the link to the server stands, for status bars.
    public enum Link: Equatable, Sendable {
        case connected
        case reconnecting(attempt: Int)
        /// Reconnecting stopped for good; the text says why and what to do.
        case failed(String)
    }

    /// The link as last reported by the connection.
    public private(set) var link: Link = .connected
    /// Group membership changes seen on this connection, oldest first (group calls rekey on them).
    public private(set) var groupChanges: [GroupChange] = []
    /// Call signals from other devices, in arrival order, for this device's `CallEngine`.
    /// Kinds this version does not know are dropped here.
    public nonisolated let callSignals: AsyncStream<CallSignal>
    private let callSignalSink: AsyncStream<CallSignal>.Continuation
    /// What this device's `GroupCallEngine` follows, in arrival order: room changes, sender
    /// keys, and group membership changes (who joined or left is what makes it hand out or
    /// rotate its sender key). Kept apart from `callSignals` so a 1:1 `CallEngine` and a group
    /// engine can run on one session.
    public nonisolated let groupCallNews: AsyncStream<GroupCallNews>
    private let groupCallSink: AsyncStream<GroupCallNews>.Continuation
    /// The last collection of missed calls started (`collectMissedCalls`): the next waits for it.
    var missedCallCollection: Task<[CallRecord], Never>?
    /// Whether a connection was up before: the next one is a reconnection.
    private var connectedBefore = false

    /// What this device's `MeetingEngine` follows: changes of its meetings, its admission, its
    /// exclusion.
    public nonisolated let meetingNews: AsyncStream<MeetingNews>
    private let meetingSink: AsyncStream<MeetingNews>.Continuation

    public enum MeetingNews: Sendable, Equatable {
        case changed(Signaling.MeetingChanged)
        case admitted(Signaling.Meeting)
        case closed(Signaling.MeetingClosed)
        /// Signaling is back after a break: the server took this device out of its meetings
        /// when the old connection closed (or restarted and remembers none).
        case reconnected
    }

    /// One piece of news for the group call engine.
    public enum GroupCallNews: Sendable, Equatable {
        case room(GroupCallEvent)
        /// A `sender-key` call signal (a member's sealed SFrame key).
        case senderKey(CallSignal)
        case group(GroupChange)
        /// Signaling is back after a break: rooms and SFU legs may be gone with the old connection.
        case reconnected
        /// The server node holding this call's room is gone (signaling stayed up, on another node).
        case roomLost(callID: String)
    }

    /// One room change as the server announced it.
    public struct GroupCallEvent: Sendable, Equatable {
        public let call: GroupCallInfo
        public let joined: [String]
        public let left: [String]
    }

    /// Connects to `server` (or the profile's remembered server). The profile's pinned
    /// fingerprint must match unless this is the first connection to that server;
    /// `acceptFingerprint` replaces the pin deliberately after the operator confirmed it.
    /// `remember: false` connects without making `server` the profile's server (a meeting on
    /// another server); its certificate is then trusted for this connection only.
    public static func open(
        store: DeviceStore, server: HostPort? = nil, acceptFingerprint: String? = nil,
        remember: Bool = true
    ) async throws -> DeviceSession {
        let account = try store.account()
        guard let target = server ?? account.server else { throw DeviceSessionError.noServer }
        let pin = acceptFingerprint ?? (account.server == target ? account.serverFingerprint : nil)
        let connection = try ServerConnection(server: target, identity: try store.identity(), pinnedFingerprint: pin)
        try await connection.connect()
        if remember, let seen = await connection.serverFingerprint?.description,
            seen != account.serverFingerprint || account.server != target
        {
            var updated = account
            updated.server = target
            updated.serverFingerprint = seen
            try store.saveAccount(updated)
        }
        let session = DeviceSession(store: store, connection: connection, server: target)
        await session.startPump()
        await session.publishSignedPrekey()
        return session
    }

    /// Makes sure the server hands out this device's current signed prekey: rotated weekly,
    /// uploaded after a rotation (`duet keys rotate-spk` included) on the next connection.
    /// Without it a device rotated twice could no longer be called: callers would use a
    /// prekey it has deleted. A failure is a notice; the next connection tries again.
    func publishSignedPrekey() async {
        guard await connection.registeredNumber != nil else { return }
        do {
            let spk = try store.signedPrekeyToPublish()
            guard try !store.hasPublishedSignedPrekey(spk.id, to: server.description) else { return }
            _ = try await connection.uploadPrekeys(signedPrekey: spk.publicPart, oneTimePrekeys: [])
            try store.notePublishedSignedPrekey(spk.id, to: server.description)
        } catch {
            notices.append(.warning(.prekeys, "could not publish the signed prekey: \(error)"))
        }
    }

    /// A session on a meeting link's server, pinned to the certificate the link names. The
    /// profile's own server, under any spelling (`ServerAddress.same`), keeps its pin: a link
    /// naming another certificate for it is refused before anything is sent. `acceptFingerprint`
    /// overrides both, as on `register`.
    public static func open(store: DeviceStore, for link: MeetingLink, acceptFingerprint: String? = nil) async throws -> DeviceSession {
        let account = try store.account()
        let own = account.server.flatMap { ServerAddress.same($0, link.server) ? $0 : nil }
        let pinned = own == nil ? nil : account.serverFingerprint.flatMap { try? CertificateFingerprint(parsing: $0) }
        if acceptFingerprint == nil, let pinned, let named = link.certificate, pinned != named {
            throw DeviceSessionError.linkCertificateMismatch(link.server.description)
        }
        guard let fingerprint = acceptFingerprint ?? (pinned ?? link.certificate)?.description else {
            throw DeviceSessionError.linkWithoutCertificate(link.server.description)
        }
        return try await open(
            store: store, server: own ?? link.server, acceptFingerprint: fingerprint,
            remember: account.server == nil || own != nil)
    }

    private init(store: DeviceStore, connection: ServerConnection, server: HostPort) {
        self.store = store
        self.connection = connection
        self.server = server
        (callSignals, callSignalSink) = AsyncStream.makeStream(of: CallSignal.self, bufferingPolicy: .bufferingNewest(256))
        (groupCallNews, groupCallSink) = AsyncStream.makeStream(of: GroupCallNews.self, bufferingPolicy: .bufferingNewest(1024))
        (meetingNews, meetingSink) = AsyncStream.makeStream(of: MeetingNews.self, bufferingPolicy: .bufferingNewest(256))
    }

    private func startPump() {
        let events = connection.events
        pump = Task { [weak self] in
            for await event in events {
                await self?.apply(event)
            }
        }
    }

    /// Applies one piece of server news to the device.
    func apply(_ event: ServerEvent) async {
        switch event {
        case let .keyChanged(number, key):
            if case .keyChanged = (try? store.recordIdentityKey(key, for: number)) ?? .unverified {
                notices.append(
                    .warning(
                        .identityKeyChanged(number: number),
                        "\(number) has a new identity key: verify the safety number again before trusting calls"))
            }
        case let .presence(number, online):
            presence[number] = online
        case let .prekeysLow(remaining):
            await topUp(serverHas: remaining)
        case let .groupChanged(change):
            let what = (change.added.map { "\($0) joined" } + change.removed.map { "\($0) left" }).joined(separator: ", ")
            notices.append(Notice(.group, .info, "group \(change.group.name): \(what.isEmpty ? "unchanged" : what) (by \(change.by))"))
            groupChanges.append(change)
            groupCallSink.yield(.group(change))
        case let .groupCallChanged(call, joined, left):
            groupCallSink.yield(.room(GroupCallEvent(call: call, joined: joined, left: left)))
        case let .groupCallLost(callID):
            groupCallSink.yield(.roomLost(callID: callID))
        case .connected:
            link = .connected
            // Every connection after the first is a reconnection: a group call's room or a
            // meeting (and its SFU leg) may be gone with the old connection, so the engines rejoin.
            if connectedBefore {
                groupCallSink.yield(.reconnected)
                meetingSink.yield(.reconnected)
                await publishSignedPrekey()
            }
            connectedBefore = true
            // Calls missed while away, without holding up the news behind this one.
            Task { await self.collectMissedCalls() }
        case let .reconnecting(attempt, _):
            link = .reconnecting(attempt: attempt)
        case let .disconnected(reason):
            if case .connected = link { link = .reconnecting(attempt: 0) }
            notices.append(Notice(.server, .info, "lost the server: \(reason); reconnecting"))
        case let .gaveUp(error):
            link = .failed(error.description)
        case let .meetingChanged(change):
            meetingSink.yield(.changed(change))
        case let .meetingAdmitted(meeting):
            meetingSink.yield(.admitted(meeting))
        case let .meetingClosed(closed):
            meetingSink.yield(.closed(closed))
        case let .callSignal(from, callID, kind, payload):
            guard let kind = CallSignal.Kind(rawValue: kind) else { break }
            let signal = CallSignal(from: from, callID: callID, kind: kind, payload: payload)
            if kind == .senderKey { groupCallSink.yield(.senderKey(signal)) } else { callSignalSink.yield(signal) }
        }
    }

    /// Brings the server's one-time prekeys back to 100.
    private func topUp(serverHas remaining: Int) async {
        guard remaining < DeviceStore.oneTimePrekeyTarget,
            let fresh = try? store.makeOneTimePrekeys(count: DeviceStore.oneTimePrekeyTarget - remaining),
            let count = try? await connection.uploadPrekeys(oneTimePrekeys: fresh)
        else { return }
        notices.append(Notice(.prekeys, .info, "uploaded \(fresh.count) one-time prekeys (server now holds \(count))"))
    }

    /// Registers `number` for this device and uploads its prekeys; remembers the server.
    public func register(number: String, name: String?, invite: String?) async throws -> ServerConnection.Registration {
        guard PhoneNumber.isValid(number) else { throw DeviceSessionError.invalidNumber(number) }
        let registration = try await connection.register(
            number: number, name: name, invite: invite,
            signedPrekey: try store.currentSignedPrekey().publicPart,
            oneTimePrekeys: try store.oneTimePrekeysForUpload())
        var account = try store.account()
        account.number = registration.number
        account.displayName = name
        account.server = server
        account.serverFingerprint = await connection.serverFingerprint?.description ?? account.serverFingerprint
        account.registeredAt = Date()
        try store.saveAccount(account)
        try store.notePublishedSignedPrekey(try store.currentSignedPrekey().id, to: server.description)
        return registration
    }

    /// Adds a contact with the identity key the server holds for it, and watches its presence.
    @discardableResult
    public func addContact(number: String, name: String?) async throws -> Contact {
        guard PhoneNumber.isValid(number) else { throw DeviceSessionError.invalidNumber(number) }
        let found = try await connection.lookup(number: number)
        try store.addContact(number: number, name: name)
        try store.recordIdentityKey(found.identityKey, for: number)
        presence[number] = found.online
        _ = try? await connection.watch([number])
        guard let contact = try store.contact(number: number) else { throw DeviceSessionError.unknownContact(number) }
        return contact
    }

    /// Asks the server for every contact's current key (catching changes even without a
    /// notice) and presence. Contacts the server no longer knows keep their last key.
    public func refreshContacts() async throws -> [Contact] {
        let contacts = try store.contacts()
        let online = (try? await connection.watch(contacts.map(\.number))) ?? [:]
        presence.merge(online) { $1 }
        for contact in contacts {
            if let found = try? await connection.lookup(number: contact.number) {
                try store.recordIdentityKey(found.identityKey, for: contact.number)
                presence[contact.number] = found.online
            }
        }
        return try store.contacts()
    }

    /// The safety number with `number`, over the key the server holds now (recorded first,
    /// so a change shows up here rather than being verified by mistake).
    public func safetyNumber(with number: String) async throws -> (SafetyNumber, Contact) {
        guard try store.contact(number: number) != nil else { throw DeviceSessionError.unknownContact(number) }
        guard let own = try store.account().number else { throw DeviceSessionError.notRegistered }
        let found = try await connection.lookup(number: number)
        try store.recordIdentityKey(found.identityKey, for: number)
        guard let contact = try store.contact(number: number), let key = contact.identityKey else {
            throw DeviceSessionError.unknownContact(number)
        }
        let safety = SafetyNumber(localNumber: own, localKey: try store.identityPublicKey(), remoteNumber: number, remoteKey: key)
        return (safety, contact)
    }

    /// The group `name` names: its id, or the name of exactly one of this device's groups.
    public func group(named name: String) async throws -> GroupInfo {
        let groups = try await connection.groups()
        if let byID = groups.first(where: { $0.id == name }) { return byID }
        let named = groups.filter { $0.name == name }
        switch named.count {
        case 1: return named[0]
        case 0: throw DeviceSessionError.unknownGroup(name)
        default: throw DeviceSessionError.ambiguousGroup(name, ids: named.map(\.id))
        }
    }

    /// Waits briefly for news the server sends right after login (queued key changes), so
    /// a short-lived command does not exit before applying them.
    public func settle() async {
        _ = try? await connection.ping()
        await Task.yield()
    }

    /// Closes the connection.
    public func close() async {
        pump?.cancel()
        callSignalSink.finish()
        groupCallSink.finish()
        meetingSink.finish()
        await connection.close()
    }
}
