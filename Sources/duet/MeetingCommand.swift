import ArgumentParser
import DuetClient
import DuetWire
import Foundation

extension Duet {
    /// `duet meeting create | join` (docs/meetings.md): cloud-encrypted meetings
    /// joined by link — the server can read, forward and record them, and says so.
    struct Meeting: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "meeting",
            abstract: "Create a meeting and share its link, or join one by its link.",
            discussion: """
                Meetings are cloud-encrypted, not end-to-end: media is encrypted (DTLS-SRTP) between \
                each device and the server, which can read, forward and record it.
                """,
            subcommands: [Create.self, Join.self])
    }
}

extension Duet.Meeting {
    /// Who a headless host lets in: `all`, `none`, or numbers (and guest names).
    struct AdmitPolicy: ExpressibleByArgument, Sendable {
        let everyone: Bool
        let names: Set<String>

        init?(argument: String) {
            switch argument {
            case "all":
                everyone = true
                names = []
            case "none":
                everyone = false
                names = []
            default:
                everyone = false
                names = Set(argument.split(separator: ",").map(String.init))
            }
        }

        func admits(_ person: Signaling.MeetingParticipant) -> Bool {
            everyone || names.contains(person.id) || names.contains(person.name)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a meeting, host it, and print its link.",
            discussion: "Prints one event a line. When the host leaves (after --duration), the meeting ends for everyone.")
        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @Flag(help: "Let anyone with the link in without knocking.") var open = false
        @Flag(help: "Record from the start (everyone sees REC).") var record = false
        @Option(help: "How long to hold the meeting (e.g. 30s).") var duration = CallDuration(argument: "30s")!
        @Option(help: "Your display name.") var name: String?
        @Option(
            help: ArgumentHelp("Who to let in when they knock: all, none, or numbers/names separated by commas.", valueName: "all|none|WHO")
        )
        var admit = AdmitPolicy(argument: "all")!
        @OptionGroup var camera: CameraOptions

        func run() async throws {
            let session = try await serverOptions.session(profile)
            let runner = try MeetingRunner(session: session, video: try? camera.settings())
            do {
                _ = try await runner.engine.create(open: open, record: record, name: name)
                try await runner.hold(for: duration.duration, admitting: admit)
            } catch {
                await runner.finish()
                await session.close()
                throw CommandFailure(error)
            }
            await session.close()
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Knock at a meeting with its link and take part once let in.",
            discussion: """
                A profile registered on the link's server joins as its number; any other joins as a \
                guest under --name (keys are made for it if it has none).
                """)
        @OptionGroup var profile: ProfileOptions
        @Argument(help: ArgumentHelp("The meeting's link.", valueName: "duet://HOST:PORT/abc-defg-hij")) var link: String
        @Option(help: "Your display name (a guest must give one).") var name: String?
        @Option(help: "How long to stay (default: until the meeting ends).") var duration: CallDuration?
        @Flag(help: "Start the recording once in.") var record = false
        @Option(help: "Pin this server certificate fingerprint (as for --server).") var acceptCertificate: String?
        @OptionGroup var camera: CameraOptions

        func run() async throws {
            let link: MeetingLink
            do { link = try MeetingLink(parsing: self.link) } catch { throw ValidationError(error.description) }
            let store = try profile.openStore(create: true)
            try store.initializeKeys()  // a guest profile gets keys; an existing identity is kept
            let session = try await DeviceSession.open(store: store, for: link, acceptFingerprint: acceptCertificate)
            let runner = try MeetingRunner(session: session, video: try? camera.settings())
            do {
                try await runner.engine.join(link, name: name)
                try await runner.attend(for: duration?.duration, record: record)
            } catch {
                await runner.finish()
                await session.close()
                throw CommandFailure(error)
            }
            await session.close()
        }
    }
}
