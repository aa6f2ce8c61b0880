import ArgumentParser

/// The `duet` command (README.md "Usage"): one executable, a subcommand per job.
@main
struct Duet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duet",
        abstract: "End-to-end encrypted calls in the terminal.",
        discussion: """
            With no subcommand, duet opens its terminal UI. A profile with no server gets an
            embedded one on loopback, with bots to call (Echo Test and two tone bots).

            Each profile (--profile NAME) is one device with its own keys, stored under
            $DUET_HOME/NAME (DUET_HOME defaults to $XDG_DATA_HOME/duet or ~/.local/share/duet).
            'duet keys init' and 'duet register' ask for a passphrase to seal a new profile's
            private keys ('duet keys seal' seals one later); scripts set DUET_PASSPHRASE.
            """,
        version: "0.1.0",
        subcommands: [
            Keys.self, Register.self, Contacts.self, Group.self, Call.self, Answer.self, Meeting.self, History.self, Bot.self,
            ServerCommand.self, Demo.self
        ])

    // Declared here too so `duet --profile NAME keys show` works as well as
    // `duet keys show --profile NAME`: ArgumentParser shares an option group's values
    // between a command and its subcommands.
    @OptionGroup var options: ProfileOptions
    @OptionGroup var serverOptions: ServerOptions
}
