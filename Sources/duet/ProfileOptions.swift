import ArgumentParser
import DuetClient
import Foundation

/// `--profile NAME`, shared by every command that acts as a device.
struct ProfileOptions: ParsableArguments {
    @Option(name: .long, help: "The device profile to use (its keys live under $DUET_HOME/NAME).")
    var profile: String = "default"

    func validate() throws {
        do { _ = try ProfileLocation(name: profile) } catch { throw ValidationError(error.description) }
    }

    var location: ProfileLocation {
        get throws { try ProfileLocation(name: profile) }
    }

    /// Opens the profile's device store with `DUET_PASSPHRASE` if set.
    func openStore(create: Bool) throws -> DeviceStore {
        try DeviceStore.open(location, passphrase: ProcessInfo.processInfo.environment["DUET_PASSPHRASE"], create: create)
    }
}

/// Reports a failure the way every headless command does: one line on stderr, exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ error: any Error) { description = "\(error)" }
    init(_ message: String) { description = message }
}
