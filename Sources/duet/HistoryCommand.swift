import ArgumentParser
import DuetClient
import DuetTUI
import Foundation

extension Duet {
    /// `duet history`: this device's calls, newest first, with the calls missed while it was
    /// away fetched from the server first (docs/history.md).
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show this device's calls, group calls and meetings, newest first; missed calls included.",
            discussion: """
                Calls missed while this device was offline are left on the server as sealed notices only this \
                device can open; they are fetched first (skip that with --offline).
                """)

        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @Option(help: "How many to show, newest first.") var limit = 20
        @Flag(help: "Do not contact the server; show what the device knows.") var offline = false

        func validate() throws {
            guard (1...DeviceStore.historyLimit).contains(limit) else {
                throw ValidationError("--limit: between 1 and \(DeviceStore.historyLimit)")
            }
        }

        func run() async throws {
            let store = try profile.openStore(create: false)
            if !offline {
                do {
                    let session = try await serverOptions.session(store)
                    await session.collectMissedCalls()
                    for notice in await session.notices where notice.severity == .warning { print("! \(notice)") }
                    await session.close()
                } catch {
                    // What the device holds is still worth showing.
                    print("! calls missed while away are not fetched: \(error)")
                }
            }
            let records = try store.history(limit: limit)
            if records.isEmpty { print("no calls yet") }
            for line in HistoryLines.lines(records) { print(line) }
        }
    }
}
