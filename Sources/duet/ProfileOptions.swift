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

    /// Opens the profile's device store with `DUET_PASSPHRASE` if set; a sealed store opened
    /// without it asks for the passphrase on the terminal (`PassphrasePrompt`). `askNew`: a
    /// store this call creates asks for a passphrase to seal it with (the set-up commands
    /// `keys init` and `register`; the terminal UI makes a newcomer's profile without asking).
    /// A passphrase given for a store that was made without one protects nothing: said on
    /// stderr every time, rather than letting the user believe the keys are sealed.
    func openStore(create: Bool, askNew: Bool = false) throws -> DeviceStore {
        var passphrase = ProcessInfo.processInfo.environment["DUET_PASSPHRASE"]
        let location = try location
        if passphrase == nil, create, askNew, !FileManager.default.fileExists(atPath: location.storeFile.path) {
            passphrase = try PassphrasePrompt.askNew(for: profile)
        }
        let store = try Self.open(location, passphrase: passphrase, create: create, profile: profile)
        if let passphrase, !passphrase.isEmpty, !store.isSealed {
            FileHandle.standardError.write(Data(Self.unsealedWarning(profile).utf8))
        }
        return store
    }

    /// The store; a sealed one opened without a passphrase asks for it at the terminal.
    private static func open(_ location: ProfileLocation, passphrase: String?, create: Bool, profile: String) throws -> DeviceStore {
        let result = Result { () throws(DeviceStoreError) in try DeviceStore.open(location, passphrase: passphrase, create: create) }
        guard case .failure(.passphraseRequired) = result, passphrase == nil,
            let typed = PassphrasePrompt.ask("Passphrase for profile '\(profile)': ")
        else { return try result.get() }
        return try DeviceStore.open(location, passphrase: typed, create: false)
    }

    static func unsealedWarning(_ profile: String) -> String {
        "duet: warning: DUET_PASSPHRASE is set, but profile '\(profile)' was made without a passphrase and its keys are "
            + "not sealed by it (seal them: duet keys seal --profile \(profile))\n"
    }
}

/// Reports a failure the way every headless command does: one line on stderr, exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ error: any Error) { description = "\(error)" }
    init(_ message: String) { description = message }
}
