import DuetMedia
import DuetWire
import Foundation
import Logging
import NIOSSL
import ServiceLifecycle

/// A running `duet server`: certificate, database and both ports, ready before `run()`
/// so the caller can print where it listens. Its loops run as services in one
/// `ServiceGroup`; SIGINT/SIGTERM (or `shutdown()`) stop them gracefully, and the database
/// is closed only after every connection has ended.
public final class ServerApplication: Sendable {
    public let signalingAddress: HostPort
    public let mediaAddress: HostPort
    /// What devices are told to send media to, in words (see `MediaAdvertisement`).
    public let mediaAdvertised: String
    /// SHA-256 of the DER certificate, for operators to hand to clients out of band.
    public let certificateFingerprint: CertificateFingerprint
    /// How full the connections' reply queues got (tests check the bound).
    let outboxMeter: OutboxMeter
    private let group: ServiceGroup
    private let store: any DirectoryStore
    private let mesh: NodeMesh?
    private let logger: Logger

    /// Opens (or makes) everything in `configuration.dataDirectory` and binds both ports.
    /// `handlingSignals` is off in tests, which run several servers in one process.
    public static func start(
        _ configuration: ServerConfiguration, handlingSignals: Bool = true,
        logger: Logger = Logger(label: "duet.server")
    ) async throws(ServerStartupError) -> ServerApplication {
        let publicIP = try publicIP(configuration.publicAddress)
        let directoryURL = try DataDirectory.prepare(configuration.dataDirectory)
        let (certificate, tls, mediaCertificate) = try certificates(in: directoryURL)
        let relaySecret = try RelaySecret.loadOrCreate(in: directoryURL)
        // The store after everything that can fail without it, so a failure leaves no
        // connection to PostgreSQL open.
        let store = try await openStore(configuration.database, dataDirectory: directoryURL, logger: logger)
        // The media port first: relay credentials name the address it was bound at.
        let boundMedia: MediaService.BoundSocket
        do { boundMedia = try await MediaService.bindSocket(configuration.media, tls: tls) } catch {
            await store.close()
            throw error
        }
        let advertisement = MediaAdvertisement(publicIP: publicIP, bound: boundMedia.address, boundIP: boundMedia.ip)
        let issuer = RelayCredentialIssuer(secret: relaySecret)
        let legs = AnnouncedLegs()
        let recordings = MeetingRecordings(dataDirectory: directoryURL, logger: logger)
        // A server on PostgreSQL is one node of several (docs/deployment.md "Nodes").
        let mesh = (store as? PostgresDirectoryStore).map { NodeMesh(store: $0, logger: logger) }
        var context = SignalingContext(
            directory: Directory(
                store: store, openRegistration: configuration.openRegistration,
                health: StorageHealth(directory: store.location, logger: logger)),
            switchboard: Switchboard(hub: SignalingHub(), mesh: mesh), fingerprint: certificate.fingerprint, relayCredentials: issuer,
            advertisement: advertisement, mediaFingerprint: mediaCertificate.fingerprint, mediaLegs: legs, logger: logger)
        context.configure(configuration, recordings: recordings)
        let signaling: SignalingService
        do { signaling = try await SignalingService.bind(configuration.signaling, tls: tls, context: context) } catch {
            await MediaService.closeUnstarted(boundMedia)
            await store.close()
            throw error
        }
        // Relay allocations may not reach the server's own ports (the media port only as the SFU).
        var relayPeers = configuration.relayPeers
        relayPeers.serverPorts = [UInt16(signaling.address.port), UInt16(boundMedia.address.port)]
        let media = MediaService(
            bound: boundMedia, advertisement: advertisement, credentials: issuer.coreCredentials, relayPeers: relayPeers,
            certificate: mediaCertificate, announcedLegs: legs, recordings: recordings,
            witness: configuration.mediaWitness, logger: logger)
        if let mesh {
            do { try await join(mesh, context: context, signaling: signaling.address, media: media.address, publicIP: publicIP) } catch {
                await MediaService.closeUnstarted(boundMedia)
                await store.close()
                throw error
            }
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [signaling, media, recordings],
                gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [],
                logger: logger))
        return ServerApplication(
            signalingAddress: signaling.address, mediaAddress: media.address, mediaAdvertised: advertisement.summary,
            certificateFingerprint: certificate.fingerprint, outboxMeter: context.outboxMeter, group: group, store: store, mesh: mesh,
            logger: logger)
    }

    /// The signaling certificate (kept in the data directory) with its TLS context, and the
    /// media port's DTLS certificate: one per run, made in memory — its fingerprint reaches
    /// devices only over authenticated signaling, so it need not survive a restart.
    private static func certificates(
        in directoryURL: URL
    ) throws(ServerStartupError) -> (ServerCertificate, NIOSSLContext, DTLSCertificate) {
        let certificate = try ServerCertificate.loadOrCreate(in: directoryURL)
        let tls: NIOSSLContext
        do { tls = try certificate.makeServerContext() } catch {
            throw .certificate("cannot use the certificate in \(directoryURL.path): \(error)")
        }
        let mediaCertificate: DTLSCertificate
        do { mediaCertificate = try DTLSCertificate(commonName: "duet-server") } catch {
            throw .certificate("cannot make the media port's DTLS certificate: \(error)")
        }
        return (certificate, tls, mediaCertificate)
    }

    /// Registers this node in the mesh, telling the others where devices reach it.
    private static func join(
        _ mesh: NodeMesh, context: SignalingContext, signaling: HostPort, media: HostPort, publicIP: [UInt8]?
    ) async throws(ServerStartupError) {
        let host = publicIP.map { TransportAddress(ip: $0, port: 0).ipText }
        let advertisement = NodeMesh.Advertisement(
            signaling: HostPort(host: host ?? signaling.host, port: signaling.port).description,
            media: HostPort(host: host ?? media.host, port: media.port).description,
            certificate: context.fingerprint.description)
        let switchboard = context.switchboard
        let (calls, meetings, legs) = (context.groupCalls, context.meetings, context.mediaLegs)
        do {
            try await mesh.start(
                advertising: advertisement,
                handlers: .init(
                    deliver: { await switchboard.deliver($0) }, serve: { await context.serve($0, from: $1) },
                    load: { NodeLoad(rooms: await calls.count + meetings.count, legs: legs.count) },
                    presence: { await switchboard.hub.presence },
                    rooms: { await calls.callIDs + meetings.openCodes.map(MeetingSignaling.roomID) },
                    alive: { live in
                        await context.dropOrphans(keeping: live)
                        for lost in await context.remoteRooms.lost(keeping: live) {
                            await switchboard.send(.groupCallLost(.init(callID: lost.callID)), toNumbers: lost.members)
                        }
                        for lost in await context.remoteRooms.lostMeetings(keeping: live) {
                            let closed = Signaling.MeetingClosed(code: lost.code, reason: MeetingSignaling.nodeLostReason)
                            await switchboard.send(.meetingClosed(closed), toKeys: lost.keys)
                        }
                    },
                    siblingsChanged: { nodes in await switchboard.hub.sendToAll(EncodedNotice(.nodes(.init(nodes: nodes)))) }))
        } catch {
            throw .database("cannot join the other nodes in the database: \(PostgresDirectoryStore.describe(error))")
        }
        context.recordings?.indexing(in: RecordingIndex(store: mesh.store, node: advertisement.signaling, logger: context.logger))
    }

    /// The directory's store: PostgreSQL when `--database` names one, else the SQLite file in
    /// the data directory.
    private static func openStore(
        _ database: String?, dataDirectory: URL, logger: Logger
    ) async throws(ServerStartupError) -> any DirectoryStore {
        guard let database else { return try SQLiteDirectoryStore(in: dataDirectory) }
        return try await PostgresDirectoryStore(try PostgresLocation(parsing: database), logger: logger)
    }

    /// `--public-address` as an IP devices can send to (nil: none given).
    private static func publicIP(_ text: String?) throws(ServerStartupError) -> [UInt8]? {
        guard let text else { return nil }
        guard let address = TransportAddress(literal: text, port: 0), !address.isUnspecified else {
            throw .configuration(
                "--public-address '\(text)' is not an IP address devices can send to; give the address they reach this server at, e.g. 203.0.113.7"
            )
        }
        return address.ip
    }

    private init(
        signalingAddress: HostPort, mediaAddress: HostPort, mediaAdvertised: String, certificateFingerprint: CertificateFingerprint,
        outboxMeter: OutboxMeter, group: ServiceGroup, store: any DirectoryStore, mesh: NodeMesh?, logger: Logger
    ) {
        self.mesh = mesh
        self.outboxMeter = outboxMeter
        self.signalingAddress = signalingAddress
        self.mediaAddress = mediaAddress
        self.mediaAdvertised = mediaAdvertised
        self.certificateFingerprint = certificateFingerprint
        self.group = group
        self.store = store
        self.logger = logger
    }

    /// Serves until a shutdown signal or `shutdown()`, then closes the database.
    public func run() async throws {
        try await group.run()
        await mesh?.stop()
        await store.close()
        logger.info("server stopped")
    }

    /// Starts a graceful shutdown; `run()` returns once it is done.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// `duet server recordings list --database`: every node's recordings, as the shared index
    /// knows them (docs/deployment.md "Recordings across nodes").
    public static func recordingIndex(database: String) async throws(ServerStartupError) -> [RecordingIndex.Entry] {
        var logger = Logger(label: "duet.server.recordings")
        logger.logLevel = .warning
        let store = try await PostgresDirectoryStore(try PostgresLocation(parsing: database), logger: logger)
        do {
            let entries = try await RecordingIndex.entries(in: store)
            await store.close()
            return entries
        } catch {
            await store.close()
            throw .database("cannot read the recordings' index: \(PostgresDirectoryStore.describe(error))")
        }
    }

    /// `duet server drain`: the node devices reach at `node` (HOST:PORT, as it advertises its
    /// signaling) gets no new rooms; returns a line saying so and how many it still holds.
    public static func drain(node: String, database: String) async throws(ServerStartupError) -> String {
        var logger = Logger(label: "duet.server.drain")
        logger.logLevel = .warning
        let store = try await PostgresDirectoryStore(try PostgresLocation(parsing: database), logger: logger)
        defer { Task { await store.close() } }
        do {
            if let rooms = try await RoomClaims.drain(signaling: node, in: store) {
                return "draining \(node): no new rooms; \(rooms) room(s) still open finish there (its log says when none is left)"
            }
            let live = try await RoomClaims.nodes(in: store)
            let known =
                live.isEmpty
                ? "no node is live"
                : "live nodes: "
                    + live.map { "\($0.signaling) (\($0.rooms) rooms\($0.draining ? ", draining" : ""))" }.joined(separator: ", ")
            throw ServerStartupError.configuration("no live node advertises \(node); \(known)")
        } catch let error as ServerStartupError {
            throw error
        } catch {
            throw .database("cannot use \(store.location): \(PostgresDirectoryStore.describe(error))")
        }
    }

    /// Stores a single-use invite that lets a new identity key take `number`, and returns it.
    /// Works on the data dir (or `database`) directly, so an operator can run it beside a
    /// running server.
    public static func issueInvite(number: String, dataDirectory: String, database: String? = nil) async throws(ServerStartupError)
        -> String
    {
        let url = try DataDirectory.prepare(dataDirectory)
        var logger = Logger(label: "duet.server.invite")
        logger.logLevel = .warning
        let store = try await openStore(database, dataDirectory: url, logger: logger)
        do {
            let code = try await Directory(
                store: store, openRegistration: false, health: StorageHealth(directory: store.location, logger: logger)
            )
            .issueInvite(number: number)
            await store.close()
            return code
        } catch {
            await store.close()
            guard case let .storage(failure) = error else { throw .database(error.reply.message) }
            throw .database(
                "cannot store the invite in \(store.location): \(failure.summary); \(failure.advice(directory: store.location))")
        }
    }
}
