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
    /// A passphrase given for a store that was made without one protects nothing: said on
    /// stderr every time, rather than letting the user believe the keys are sealed.
    func openStore(create: Bool) throws -> DeviceStore {
        let passphrase = ProcessInfo.processInfo.environment["DUET_PASSPHRASE"]
        let store = try DeviceStore.open(location, passphrase: passphrase, create: create)
        if let passphrase, !passphrase.isEmpty, !store.isSealed {
            FileHandle.standardError.write(Data(Self.unsealedWarning(profile).utf8))
        }
        return store
    }

    static func unsealedWarning(_ profile: String) -> String {
        "duet: warning: DUET_PASSPHRASE is set, but profile '\(profile)' was made without a passphrase and its keys are "
            + "not sealed by it (sealing an existing profile is not built yet: make a new profile with DUET_PASSPHRASE set)\n"
    }
}

/// Reports a failure the way every headless command does: one line on stderr, exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ error: any Error) { description = "\(error)" }
    init(_ message: String) { description = message }
}
