import ArgumentParser
import DuetClient

extension Duet {
    /// `duet register NUMBER --server HOST:PORT`: binds a number to this device on a server.
    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "register",
            abstract: "Register a phone number for this device on a server and upload its prekeys.",
            discussion: """
                Makes the device's keys first if the profile has none. The server's certificate \
                fingerprint is pinned on this first connection and checked on every later one.
                """)

        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions

        @Argument(help: "The number to register: + and 1–15 digits.")
        var number: String

        @Option(help: "A one-time code from the server's operator, to move a number to this device.")
        var invite: String?

        @Option(help: "Your name, as contacts see it.")
        var name: String?

        func run() async throws {
            let store = try profile.openStore(create: true, askNew: true)
            if try store.initializeKeys() == .created {
                print("made this device's keys: \(try store.identityPublicKey().fingerprint)")
            }
            let session = try await DeviceSession.open(
                store: store, server: serverOptions.hostPort, acceptFingerprint: serverOptions.acceptCertificate)
            defer { Task { await session.close() } }
            let registration = try await session.register(number: number, name: name, invite: invite)
            let account = try store.account()
            print("registered \(registration.number) on \(session.server)")
            print("server certificate pinned: \(account.serverFingerprint ?? "?")")
            print("one-time prekeys on the server: \(registration.oneTimePrekeyCount)")
            await session.close()
        }
    }
}
