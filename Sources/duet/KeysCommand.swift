import ArgumentParser
import DuetClient
import DuetCrypto
import Foundation

extension Duet {
    /// `duet keys init | show | rotate-spk | seal`: this device's own keys.
    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keys",
            abstract: "Make, show, rotate and seal this device's keys.",
            subcommands: [Init.self, Show.self, RotateSPK.self, Seal.self])

        @OptionGroup var options: ProfileOptions
    }
}

extension Duet.Keys {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Make the identity key, a signed prekey and 100 one-time prekeys (never overwrites an identity).")

        @OptionGroup var options: ProfileOptions

        func run() async throws {
            let store = try options.openStore(create: true, askNew: true)
            let result = try store.initializeKeys()
            let identity = try store.identityPublicKey()
            switch result {
            case .created:
                print("created identity \(identity.fingerprint)")
                print("signed prekey #\(try store.currentSignedPrekey().id), \(try store.oneTimePrekeyCount()) one-time prekeys")
                print(
                    store.isSealed
                        ? "private keys sealed with your passphrase"
                        : "private keys not sealed (seal them with a passphrase: duet keys seal)")
            case .alreadyPresent:
                print("identity already exists: \(identity.fingerprint) (kept; nothing changed)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show this device's identity fingerprint and prekeys.")

        @OptionGroup var options: ProfileOptions

        func run() async throws {
            let location = try options.location
            let store = try options.openStore(create: false)
            let identity = try store.identityPublicKey()
            let spk = try store.currentSignedPrekey()
            let days = Int(Date().timeIntervalSince(spk.createdAt) / 86_400)
            let rows: [(String, String)] = [
                ("profile", "\(location.name) (\(location.directory.path))"),
                ("identity", identity.fingerprint),
                (
                    "signed prekey",
                    "#\(spk.id), \(days) day\(days == 1 ? "" : "s") old" + (days >= 7 ? " — rotate it: duet keys rotate-spk" : "")
                ),
                ("one-time prekeys", "\(try store.oneTimePrekeyCount())"),
                ("sealed", store.isSealed ? "yes (a passphrase)" : "no (duet keys seal)")
            ]
            for (label, value) in rows {
                print(String(repeating: " ", count: 16 - label.count) + label + ": " + value)
            }
        }
    }

    struct RotateSPK: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-spk",
            abstract: "Replace the signed prekey (the previous one is kept for calls being set up).")

        @OptionGroup var options: ProfileOptions

        func run() async throws {
            let store = try options.openStore(create: false)
            let previous = try store.currentSignedPrekey()
            let next = try store.rotateSignedPrekey()
            print(
                "signed prekey #\(next.id) created; #\(previous.id) kept for calls already being set up; the server gets #\(next.id) the next time this profile connects"
            )
        }
    }
}

extension Duet.Keys {
    /// `duet keys seal`: seals a profile made without a passphrase.
    struct Seal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seal",
            abstract: "Seal this profile's private keys with a passphrase (asked on the terminal, or DUET_PASSPHRASE).",
            discussion: """
                Every private key is rewritten sealed (XSalsa20-Poly1305 under a key Argon2id makes from the \
                passphrase); the clear copies are overwritten in the file and its log. From then on duet asks for \
                the passphrase whenever it opens the profile.
                """)

        @OptionGroup var options: ProfileOptions

        func run() async throws {
            let location = try options.location
            guard
                let passphrase = try ProcessInfo.processInfo.environment["DUET_PASSPHRASE"] ?? PassphrasePrompt.askNew(for: options.profile)
            else { throw CommandFailure("no terminal to ask the passphrase on: set DUET_PASSPHRASE") }
            guard !passphrase.isEmpty else { throw CommandFailure("no passphrase given; nothing was changed") }
            try DeviceStore.seal(location, passphrase: passphrase)
            print("sealed the private keys of profile '\(options.profile)'; duet asks for the passphrase from now on")
        }
    }
}
