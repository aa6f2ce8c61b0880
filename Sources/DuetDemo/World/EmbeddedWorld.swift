import DuetClient
import DuetServer
import DuetWire
import Foundation
import Logging

/// What `duet` stands up when a profile has no server (README.md "Usage"): a real `duet server` on
/// loopback with its data under the profile, and bots that are real devices on it — so the
/// first run can place a call with no set-up.
public final class EmbeddedWorld: Sendable {
    /// A bot of the embedded world.
    public struct BotSpec: Sendable {
        public let name: String
        public let number: String
        public let kind: CallBot.Kind
        /// True for a bot whose identity is new every time the world starts ("reinstalled"),
        /// so a user who verified it sees KEY CHANGED next time.
        public let reinstallsEachStart: Bool
        public let note: String
    }

    /// The user's number on an embedded server when the profile has none yet.
    public static let userNumber = "+15550100"
    public static let bots: [BotSpec] = [
        BotSpec(
            name: "Echo Test", number: "+15550001", kind: .echo, reinstallsEachStart: false,
            note: "Echo Test: answers at once and plays your own voice back, about a second late."),
        BotSpec(
            name: "Tone Alto", number: "+15550002", kind: .tone, reinstallsEachStart: false,
            note: "A tone bot: answers at once and plays its own voice."),
        BotSpec(
            name: "Tone Bass", number: "+15550003", kind: .tone, reinstallsEachStart: true,
            note: "A tone bot whose device is reinstalled each time duet starts: verify it, restart duet, and see KEY CHANGED.")
    ]

    public let server: ServerApplication
    public let running: [CallBot]
    private let serving: Task<Void, any Error>

    /// Number → what the bot does, for contact details.
    public var notes: [String: String] {
        Dictionary(uniqueKeysWithValues: Self.bots.map { ($0.number, $0.note) })
    }

    /// Where a profile keeps its embedded world.
    public static func directory(of profile: ProfileLocation) -> URL {
        profile.directory.appendingPathComponent("embedded", isDirectory: true)
    }

    /// True when `duet` with no `--server` should use an embedded server for this profile:
    /// it has no server, or the one it has is the embedded one it ran before.
    public static func isEmbedded(_ profile: ProfileLocation, account: AccountRecord) -> Bool {
        guard let server = account.server else { return true }
        return savedAddresses(profile)?.signaling == server
    }

    /// Starts the server (on the ports it had last time, if free) and the bots, registers the
    /// user if needed and puts the bots in their contacts.
    public static func start(profile: ProfileLocation) async throws -> EmbeddedWorld {
        let directory = directory(of: profile)
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        var logger = Logger(label: "duet.embedded-server")
        logger.logLevel = .critical  // the TUI owns the terminal; the server must not print on it
        let previous = savedAddresses(profile)
        let server: ServerApplication
        do {
            server = try await startServer(directory, signaling: previous?.signaling, media: previous?.media, logger: logger)
        } catch  where previous != nil {
            server = try await startServer(directory, signaling: nil, media: nil, logger: logger)
        }
        try "\(server.signalingAddress) \(server.mediaAddress)\n".write(
            to: directory.appendingPathComponent("addresses"), atomically: true, encoding: .utf8)
        let serving = Task { try await server.run() }
        do {
            var running: [CallBot] = []
            for spec in bots {
                running.append(try await startBot(spec, in: directory, server: server))
            }
            return EmbeddedWorld(server: server, running: running, serving: serving)
        } catch {
            await server.shutdown()
            throw error
        }
    }

    private init(server: ServerApplication, running: [CallBot], serving: Task<Void, any Error>) {
        self.server = server
        self.running = running
        self.serving = serving
    }

    /// Connects the user's device to the embedded server, registering it the first time
    /// and adding the bots as contacts.
    public func connectUser(store: DeviceStore, name: String) async throws -> DeviceSession {
        let session = try await DeviceSession.open(
            store: store, server: server.signalingAddress,
            acceptFingerprint: server.certificateFingerprint.description)
        let account = try store.account()
        if account.number == nil || account.server != server.signalingAddress {
            _ = try await session.register(number: account.number ?? Self.userNumber, name: account.displayName ?? name, invite: nil)
        }
        for spec in Self.bots {
            if try store.contact(number: spec.number) == nil {
                try await session.addContact(number: spec.number, name: spec.name)
            }
        }
        if let number = try store.account().number { try await formChoir(with: number) }
        return session
    }

    /// The bot group a first run can ring: "Bot Choir", owned by the first tone bot, with
    /// every bot and the user in it (made once; the user is added back if missing).
    private func formChoir(with user: String) async throws {
        guard let owner = running.first(where: { $0.kind == .tone }) else { return }
        let members = running.map(\.session).filter { $0 !== owner.session }
        var memberNumbers: [String] = [user]
        for session in members { if let number = try session.store.account().number { memberNumbers.append(number) } }
        let connection = owner.session.connection
        if let choir = try await connection.groups().first(where: { $0.name == Self.choirName }) {
            for number in memberNumbers where !choir.members.contains(number) {
                _ = try await connection.addGroupMember(group: choir.id, number: number)
            }
        } else {
            _ = try await connection.createGroup(name: Self.choirName, members: memberNumbers)
        }
    }

    /// The embedded world's bot group.
    public static let choirName = "Bot Choir"

    public func stop() async {
        for bot in running { await bot.stop() }
        await server.shutdown()
        _ = try? await serving.value
    }

    private static func startServer(_ directory: URL, signaling: HostPort?, media: HostPort?, logger: Logger) async throws
        -> ServerApplication
    {
        var configuration = ServerConfiguration(
            signaling: signaling ?? .loopback(port: 0), media: media ?? .loopback(port: 0),
            dataDirectory: directory.appendingPathComponent("server").path, openRegistration: true)
        // The devices and bots run on this machine: the relay may reach them on loopback.
        configuration.relayPeers = .allowingLoopback
        return try await ServerApplication.start(configuration, handlingSignals: false, logger: logger)
    }

    private static func startBot(_ spec: BotSpec, in directory: URL, server: ServerApplication) async throws -> CallBot {
        let home = directory.appendingPathComponent("bots", isDirectory: true)
        let location = try ProfileLocation(name: spec.number.filter(\.isNumber), home: home)
        if spec.reinstallsEachStart { try? FileManager.default.removeItem(at: location.directory) }
        let store = try DeviceStore.open(location, passphrase: nil, create: true)
        _ = try store.initializeKeys()
        let session = try await DeviceSession.open(
            store: store, server: server.signalingAddress,
            acceptFingerprint: server.certificateFingerprint.description)
        _ = try await session.register(number: spec.number, name: spec.name, invite: nil)
        return try await CallBot(kind: spec.kind, session: session)
    }

    private static func savedAddresses(_ profile: ProfileLocation) -> (signaling: HostPort, media: HostPort)? {
        guard let text = try? String(contentsOf: directory(of: profile).appendingPathComponent("addresses"), encoding: .utf8) else {
            return nil
        }
        let parts = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard parts.count == 2, let signaling = try? HostPort(parsing: parts[0]), let media = try? HostPort(parsing: parts[1]) else {
            return nil
        }
        return (signaling, media)
    }
}
