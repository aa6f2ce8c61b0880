import ArgumentParser
import DuetClient
import Foundation

extension Duet {
    /// `duet contacts add | list | verify | remove`.
    struct Contacts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "contacts",
            abstract: "Add, list, verify and remove contacts.",
            subcommands: [Add.self, List.self, Verify.self, Remove.self])

        @OptionGroup var profile: ProfileOptions
    }
}

extension Duet.Contacts {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a contact, fetching its identity key from the server.")
        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @Argument(help: "The contact's number.") var number: String
        @Option(help: "A name to show for the contact.") var name: String?

        func run() async throws {
            let session = try await serverOptions.session(profile)
            let contact = try await session.addContact(number: number, name: name)
            print("added \(contact.displayName), identity \(contact.identityKey?.fingerprint ?? "?")")
            print("compare safety numbers with them: duet contacts verify \(number)")
            await session.close()
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List contacts: verified, unverified or KEY CHANGED, and online or not.")
        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @Flag(help: "Do not contact the server; show what the device knows.") var offline = false

        func run() async throws {
            var presence: [String: Bool] = [:]
            let contacts: [Contact]
            var warning: String?
            if offline {
                contacts = try profile.openStore(create: false).contacts()
            } else {
                do {
                    let session = try await serverOptions.session(profile)
                    await session.settle()
                    contacts = try await session.refreshContacts()
                    presence = await session.presence
                    for notice in await session.notices { print("! \(notice)") }
                    await session.close()
                } catch let error as ServerConnectionError where error.isRetryable {
                    warning = "server unreachable (\(error)); showing what this device knows"
                    contacts = try profile.openStore(create: false).contacts()
                }
            }
            if let warning { print("! \(warning)") }
            if contacts.isEmpty { print("no contacts yet: duet contacts add NUMBER") }
            for line in ContactsTable.lines(contacts, presence: presence) { print(line) }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the safety number with a contact; --confirm marks it verified.")
        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @Argument(help: "The contact's number.") var number: String
        @Flag(help: "You compared the numbers with the contact and they match: mark the contact verified.") var confirm = false

        func run() async throws {
            let session = try await serverOptions.session(profile)
            let (safety, contact) = try await session.safetyNumber(with: number)
            print("safety number with \(contact.displayName):")
            for line in safety.lines { print("  " + line) }
            if case .keyChanged = contact.trust {
                print("! KEY CHANGED: \(number) has a new identity key since you last saw it")
            }
            if confirm, let key = contact.identityKey {
                guard try session.store.markVerified(number: number, key: key) else {
                    throw CommandFailure("the key changed while verifying; run the command again")
                }
                print("marked \(contact.displayName) verified")
            } else if !confirm {
                print("compare it with theirs (in person or on a call); if it matches: duet contacts verify \(number) --confirm")
            }
            await session.close()
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a contact from this device.")
        @OptionGroup var profile: ProfileOptions
        @Argument(help: "The contact's number.") var number: String

        func run() async throws {
            guard try profile.openStore(create: false).removeContact(number: number) else {
                throw CommandFailure("\(number) is not in your contacts")
            }
            print("removed \(number)")
        }
    }
}

/// The rows of `duet contacts list`.
enum ContactsTable {
    static func lines(_ contacts: [Contact], presence: [String: Bool]) -> [String] {
        let width = contacts.map(\.displayName.count).max() ?? 0
        return contacts.map { contact in
            let trust =
                switch contact.trust {
                case .verified: "verified ✓"
                case .unverified: "unverified"
                case .keyChanged: "KEY CHANGED"
                }
            let online = presence[contact.number].map { $0 ? "online" : "offline" } ?? "unknown"
            let padded = contact.displayName + String(repeating: " ", count: width - contact.displayName.count)
            let trustPadded = trust + String(repeating: " ", count: max(0, 12 - trust.count))
            return "\(padded)  \(trustPadded)  \(online)"
        }
    }
}
