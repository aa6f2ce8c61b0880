import ArgumentParser
import DuetServer
import Foundation

extension ServerCommand {
    /// `duet server recordings list|export` (docs/recordings.md "Command line"): the operator's way to see and get back
    /// meeting recordings, which are otherwise only encrypted files in the data dir.
    struct Recordings: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List meeting recordings or export one as an Ogg Opus file (or, named .webm, with its picture).",
            discussion: "Recordings are encrypted at rest under the data dir's recordings.key; both commands need it.",
            subcommands: [List.self, Export.self])
    }
}

extension ServerCommand.Recordings {
    /// One line per recording, oldest first, under a header line.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the recordings in the data dir, oldest first.",
            discussion: """
                With --database (several nodes), the recordings other nodes keep are listed too, each with the \
                node whose data dir holds it; only that node can export it.
                """)

        @OptionGroup var dataOptions: ServerDataOptions

        func run() async throws {
            let directory = dataOptions.data ?? ServerCommand.defaultDataDirectory()
            let recordings = try Self.localRecordings(URL(fileURLWithPath: directory, isDirectory: true))
            var elsewhere: [RecordingIndex.Entry] = []
            if let database = dataOptions.databaseGiven {
                let here = Set(recordings.map(\.id))
                // The database out of reach still leaves this node's own recordings to list.
                do { elsewhere = try await ServerApplication.recordingIndex(database: database).filter { !here.contains($0.id) } } catch {
                    FileHandle.standardError.write(Data("duet: other nodes' recordings are not listed: \(error)\n".utf8))
                }
            }
            guard !recordings.isEmpty || !elsewhere.isEmpty else {
                FileHandle.standardError.write(Data("no recordings in \(directory)\n".utf8))
                return
            }
            print(Self.lines(recordings, elsewhere: elsewhere).joined(separator: "\n"))
        }

        /// The recordings in the data dir. A data dir that never recorded has no key yet: that
        /// is an empty list, not an error. Recordings without their key are an error (the vault
        /// says so).
        static func localRecordings(_ url: URL) throws -> [RecordingInfo] {
            let keyPath = url.appendingPathComponent(RecordingMasterKey.fileName).path
            let files = (try? FileManager.default.contentsOfDirectory(atPath: url.appendingPathComponent("recordings").path)) ?? []
            guard FileManager.default.fileExists(atPath: keyPath) || files.contains(where: { $0.hasSuffix(".duetrec") }) else {
                return []
            }
            return try RecordingVault(dataDirectory: url).list()
        }

        /// The table, as plain columns a script can split on runs of spaces; recordings kept by
        /// other nodes say which, and show only what the index knows (no meeting, no one's name).
        static func lines(_ recordings: [RecordingInfo], elsewhere: [RecordingIndex.Entry] = []) -> [String] {
            let formatter = ISO8601DateFormatter()
            let here = recordings.map { info in
                (
                    info.started,
                    [
                        info.id, info.meetingCode, formatter.string(from: info.started),
                        info.ended.map(formatter.string(from:)) ?? "unfinished",
                        String(format: "%.1f", info.audioSeconds), String(info.byteSize),
                        info.problem.map { "! \($0)" } ?? (info.participants.isEmpty ? "-" : info.participants.joined(separator: ","))
                    ]
                )
            }
            let there = elsewhere.map { entry in
                (
                    entry.started,
                    [
                        entry.id, "-", formatter.string(from: entry.started), entry.ended.map(formatter.string(from:)) ?? "unfinished",
                        "-", "-", "kept by the node at \(entry.node)"
                    ]
                )
            }
            let rows = (here + there).sorted { $0.0 < $1.0 }.map(\.1)
            let header = ["ID", "MEETING", "STARTED", "ENDED", "SECONDS", "BYTES", "PARTICIPANTS"]
            let all = [header] + rows
            let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
            return all.map { row in
                row.enumerated().map { column, text in
                    column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                }.joined(separator: "  ")
            }
        }
    }

    /// Decrypts one recording to a file: authenticated audio only, incomplete recordings marked.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decrypt a recording into an Ogg Opus file.",
            discussion: """
                Only authenticated audio is written, and nothing at all if any part fails to authenticate. A recording \
                that stops before its end (the server stopped, or its disk filled, while recording) exports up to its \
                last complete chunk, and the command says it is incomplete.
                """)

        @Argument(help: "The recording's id, as `duet server recordings list` shows it.")
        var id: String

        @Option(
            name: .shortAndLong, help: ArgumentHelp("Where to write the Ogg Opus file (replaced if it exists).", valueName: "FILE.opus"))
        var output: String

        @OptionGroup var dataOptions: ServerDataOptions

        func validate() throws {
            do { _ = try RecordingID(id) } catch { throw ValidationError("\(error)") }
        }

        func run() async throws {
            let directory = dataOptions.data ?? ServerCommand.defaultDataDirectory()
            let export: RecordingExport
            do {
                let vault = try RecordingVault(dataDirectory: URL(fileURLWithPath: directory, isDirectory: true))
                export = try vault.export(RecordingID(id), to: URL(fileURLWithPath: output))
            } catch {
                switch error {
                case .notFound, .noMasterKey:
                    try await Self.refuseIfElsewhere(id, database: dataOptions.databaseGiven, directory: directory)
                default: break
                }
                throw error
            }
            FileHandle.standardError.write(Data((Self.summary(id: id, output: output, export) + "\n").utf8))
        }

        /// A recording another node keeps (the shared index says which): name that node, rather
        /// than only say it is not here.
        /// The index out of reach leaves the error about this data dir to be reported.
        static func refuseIfElsewhere(_ id: String, database: String?, directory: String) async throws {
            guard let database, let entries = try? await ServerApplication.recordingIndex(database: database),
                let entry = entries.first(where: { $0.id == id })
            else { return }
            throw ValidationError(
                "the shared index says the node at \(entry.node) keeps recording \(id), in its data dir (not in \(directory)): run this export there, with its --data"
            )
        }

        /// One line; an incomplete recording says so plainly, since its file looks like any other.
        static func summary(id: String, output: String, _ export: RecordingExport) -> String {
            let seconds = String(format: "%.1f", export.audioSeconds)
            let format = output.lowercased().hasSuffix(".webm") ? "WebM (VP8 + Opus), \(export.videoFrames) pictures" : "Ogg Opus"
            let what = "\(id) to \(output) (\(export.byteCount) bytes, \(format), \(seconds) s)"
            guard !export.isComplete else { return "exported \(what)" }
            return
                "exported \(what) — INCOMPLETE: the recording stops before its end (the server stopped, or its disk filled, while recording); "
                + "this is everything up to its last complete chunk"
        }
    }
}
