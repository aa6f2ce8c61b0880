import ArgumentParser
import DuetClient
import Foundation

extension Duet {
    /// `duet group create | add | remove | list` (README.md "Groups and group calls"): groups live on the server, which
    /// rings their members and admits only members to their calls.
    struct Group: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "group",
            abstract: "Create groups and change their members.",
            subcommands: [Create.self, Add.self, Remove.self, List.self])

        @OptionGroup var profile: ProfileOptions
    }
}

extension Duet.Group {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a group with you and these numbers in it.")
        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @Argument(help: "The group's name.") var name: String
        @Argument(help: "The other members' numbers.") var members: [String] = []

        func run() async throws {
            try await withSession(profile, serverOptions) { session in
                let group = try await session.connection.createGroup(name: name, members: members)
                print("created \(group.name) (\(group.id)) with \(group.members.joined(separator: " "))")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a member to a group you are in.")
        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @Argument(help: "The group's name or id.") var group: String
        @Argument(help: "The number to add.") var number: String

        func run() async throws {
            try await withSession(profile, serverOptions) { session in
                let target = try await session.group(named: group)
                printMembers(try await session.connection.addGroupMember(group: target.id, number: number))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a member (the owner may remove anyone; anyone may remove themselves).")
        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @Argument(help: "The group's name or id.") var group: String
        @Argument(help: "The number to remove.") var number: String

        func run() async throws {
            try await withSession(profile, serverOptions) { session in
                let target = try await session.group(named: group)
                printMembers(try await session.connection.removeGroupMember(group: target.id, number: number))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the groups you are in, with their members.")
        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions

        func run() async throws {
            try await withSession(profile, serverOptions) { session in
                let groups = try await session.connection.groups()
                if groups.isEmpty { print("no groups yet: duet group create NAME NUMBER…") }
                groups.forEach(printMembers)
            }
        }
    }
}

/// "Team (g1a2b3c4d) — +1555… (owner) +1555…".
private func printMembers(_ group: GroupInfo) {
    print("\(group.name) (\(group.id)) — \(group.members.map { $0 == group.owner ? "\($0) (owner)" : $0 }.joined(separator: " "))")
}

/// Runs `body` on a session to the profile's server, closing it however `body` ends; a
/// failure is reported as one line and exit 1.
private func withSession(_ profile: ProfileOptions, _ server: ServerOptions, _ body: (DeviceSession) async throws -> Void) async throws {
    let session = try await server.session(profile)
    do {
        try await body(session)
        await session.close()
    } catch {
        await session.close()
        throw CommandFailure(error)
    }
}
