import ArgumentParser
import DuetServer
import DuetWire
import Foundation

/// `duet server` (docs/server.md): runs the directory, signaling hub and media port (STUN and the
/// 1:1 relay) until SIGINT/SIGTERM,
/// and, as `duet server invite`, lets the operator move a number to a new device key.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a Duet server: directory, TLS signaling, and the media port (STUN and the call relay).",
        discussion: """
            On first start the server makes a self-signed TLS certificate in its data directory and \
            prints its SHA-256 fingerprint; give that fingerprint to the people who register, so they \
            can check what their device pins.
            """,
        subcommands: [Invite.self, Recordings.self, Drain.self])

    @Option(
        help: ArgumentHelp("Signaling address (TCP + TLS); 0.0.0.0:7400 (or [::]:7400) listens on every interface.", valueName: "HOST:PORT")
    )
    var listen = ServerConfiguration.defaultSignaling.description

    @Option(
        help: ArgumentHelp(
            "Media address (UDP): STUN, the relay for 1:1 calls, the SFU for group calls and meetings; 0.0.0.0:7401 (or [::]:7401) listens on every interface.",
            valueName: "HOST:PORT"))
    var media = ServerConfiguration.defaultMedia.description

    @Option(
        help: ArgumentHelp(
            "The IP devices reach this machine at, when it sits behind a 1:1 NAT (a cloud machine's public address): media, relay and SFU are advertised there.",
            valueName: "HOST"))
    var publicAddress: String?

    @OptionGroup var dataOptions: ServerDataOptions
    var data: String? { dataOptions.data }

    @Flag(help: "Let any key take any number without an invite code (for embedded and test servers).")
    var openRegistration = false

    @Flag(
        help:
            "Let the relay reach private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), for a relay serving a LAN; refused by default."
    )
    var relayAllowPrivate = false

    @Flag(
        help:
            "Let the relay reach loopback addresses (127/8, ::1), for a server whose devices all run on this machine; refused by default. The server's own ports stay refused."
    )
    var relayAllowLoopback = false

    @Option(
        help: ArgumentHelp(
            "coturn's static-auth-secret: devices get TURN REST credentials for coturn instead of this server's relay (with --turn-url). DUET_TURN_SECRET keeps it out of the process list.",
            valueName: "SECRET"))
    var turnSecret: String?

    @Option(
        help: ArgumentHelp("Where devices reach coturn, e.g. turn:turn.example.net:3478 (with --turn-secret).", valueName: "turn:HOST:PORT")
    )
    var turnURL: String?

    /// `--turn-secret`, else `DUET_TURN_SECRET`.
    private var turnSecretGiven: String? { turnSecret ?? ProcessInfo.processInfo.environment["DUET_TURN_SECRET"] }

    func validate() throws {
        if (turnSecretGiven == nil) != (turnURL == nil) {
            throw ValidationError(
                "--turn-secret (or DUET_TURN_SECRET) and --turn-url go together: coturn's secret and where devices reach it")
        }
        for (flag, value) in [("--listen", listen), ("--media", media)] {
            do { _ = try HostPort(parsing: value, allowEphemeralPort: true) } catch { throw ValidationError("\(flag): \(error)") }
        }
        if let publicAddress, TransportAddress(literal: publicAddress, port: 0)?.isUnspecified != false {
            throw ValidationError(
                "--public-address: '\(publicAddress)' is not an IP address devices can send to; write the address they reach this machine at, e.g. 203.0.113.7"
            )
        }
    }

    func run() async throws {
        var configuration = ServerConfiguration(
            signaling: try HostPort(parsing: listen, allowEphemeralPort: true),
            media: try HostPort(parsing: media, allowEphemeralPort: true),
            dataDirectory: data ?? Self.defaultDataDirectory(), openRegistration: openRegistration)
        configuration.database = dataOptions.databaseGiven
        if let turnSecret = turnSecretGiven, let turnURL { configuration.coturn = try CoturnRelay(secret: turnSecret, url: turnURL) }
        configuration.publicAddress = publicAddress
        configuration.relayPeers = RelayPeerPolicy(allowsLoopback: relayAllowLoopback, allowsPrivate: relayAllowPrivate)
        let app = try await ServerApplication.start(configuration)
        // Written unbuffered: scripts read the fingerprint from a pipe while the server runs.
        FileHandle.standardOutput.write(
            Data(
                """
                duet server
                  signaling    \(app.signalingAddress) (TLS)
                  media        \(app.mediaAddress) (UDP; STUN, the relay for 1:1 calls, the SFU for group calls and meetings)
                  advertised   \(app.mediaAdvertised)
                  certificate  SHA-256 \(app.certificateFingerprint)
                  data         \(configuration.dataDirectory)\(configuration.database.map { _ in " (directory in PostgreSQL: one node of several)" } ?? "")
                  relay        \(configuration.coturn.map { "coturn at \($0.server)" } ?? "built in, on the media port")
                  registration \(openRegistration ? "open: any key may take any number" : "a number bound to a key moves only with an invite code")

                """.utf8))
        try await app.run()
    }

    /// `$XDG_DATA_HOME/duet/server`, else `~/.local/share/duet/server` (docs/server.md "Data directory").
    static func defaultDataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/duet/server" }
        let home = environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        return home + "/.local/share/duet/server"
    }
}

extension ServerCommand {
    /// Prints a single-use code that lets a new identity key take NUMBER (e.g. a new phone).
    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a one-time code that lets a new device key take a registered number.")

        @Argument(help: "The number to move, e.g. +15551234567.")
        var number: String

        // Shared with the parent command: ArgumentParser hands `--data` to every command in
        // the chain that declares this group, so `duet server invite N --data DIR` reaches here.
        @OptionGroup var dataOptions: ServerDataOptions
        var data: String? { dataOptions.data }

        func validate() throws {
            guard PhoneNumber.isValid(number) else {
                throw ValidationError("'\(number)' is not a number; write + then 1 to 15 digits, e.g. +15551234567")
            }
        }

        func run() async throws {
            let code = try await ServerApplication.issueInvite(
                number: number, dataDirectory: data ?? ServerCommand.defaultDataDirectory(), database: dataOptions.databaseGiven)
            print(code)
            FileHandle.standardError.write(
                Data("Single use. On the new device: duet register \(number) --server HOST:PORT --invite \(code)\n".utf8))
        }
    }
}

extension ServerCommand {
    /// Marks one node of several as draining (docs/deployment.md "Draining a node").
    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop placing new group calls on one server node; the calls open there finish.")

        @Option(help: ArgumentHelp("The node, as devices reach its signaling (its --public-address and port).", valueName: "HOST:PORT"))
        var node: String

        @Option(
            help: ArgumentHelp(
                "The nodes' shared PostgreSQL directory (or DUET_DATABASE_URL).",
                valueName: "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"))
        var database: String?

        func run() async throws {
            guard let database = database ?? ProcessInfo.processInfo.environment["DUET_DATABASE_URL"] else {
                throw ValidationError("name the nodes' database: --database postgres://… or DUET_DATABASE_URL")
            }
            print(try await ServerApplication.drain(node: node, database: database))
        }
    }
}

/// `--data DIR`, declared by `server` and `server invite` alike.
struct ServerDataOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where the database and certificate live. Default: $XDG_DATA_HOME/duet/server or ~/.local/share/duet/server.", valueName: "DIR")
    )
    var data: String?

    @Option(
        help: ArgumentHelp(
            "Keep the directory in PostgreSQL, shared by several server nodes, instead of the SQLite file in --data (docs/deployment.md). DUET_DATABASE_URL keeps its password out of the process list.",
            valueName: "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"))
    var database: String?

    /// `--database`, else `DUET_DATABASE_URL`.
    var databaseGiven: String? { database ?? ProcessInfo.processInfo.environment["DUET_DATABASE_URL"] }
}
