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
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the recordings in the data dir, oldest first.")

        @OptionGroup var dataOptions: ServerDataOptions

        func run() throws {
            let directory = dataOptions.data ?? ServerCommand.defaultDataDirectory()
            let url = URL(fileURLWithPath: directory, isDirectory: true)
            // A data dir that never recorded has no key yet: that is an empty list, not an error.
            // Recordings without their key are an error (the vault says so).
            let keyPath = url.appendingPathComponent(RecordingMasterKey.fileName).path
            let files = (try? FileManager.default.contentsOfDirectory(atPath: url.appendingPathComponent("recordings").path)) ?? []
            guard FileManager.default.fileExists(atPath: keyPath) || files.contains(where: { $0.hasSuffix(".duetrec") }) else {
                FileHandle.standardError.write(Data("no recordings in \(directory)\n".utf8))
                return
            }
            let recordings = try RecordingVault(dataDirectory: url).list()
            guard !recordings.isEmpty else {
                FileHandle.standardError.write(Data("no recordings in \(directory)\n".utf8))
                return
            }
            print(Self.lines(recordings).joined(separator: "\n"))
        }

        /// The table, as plain columns a script can split on runs of spaces.
        static func lines(_ recordings: [RecordingInfo]) -> [String] {
            let formatter = ISO8601DateFormatter()
            let rows = recordings.map { info in
                [
                    info.id, info.meetingCode, formatter.string(from: info.started),
                    info.ended.map(formatter.string(from:)) ?? "unfinished",
                    String(format: "%.1f", info.audioSeconds), String(info.byteSize),
                    info.problem.map { "! \($0)" } ?? (info.participants.isEmpty ? "-" : info.participants.joined(separator: ","))
                ]
            }
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
    struct Export: ParsableCommand {
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

        func run() throws {
            let directory = dataOptions.data ?? ServerCommand.defaultDataDirectory()
            let vault = try RecordingVault(dataDirectory: URL(fileURLWithPath: directory, isDirectory: true))
            let export = try vault.export(RecordingID(id), to: URL(fileURLWithPath: output))
            FileHandle.standardError.write(Data((Self.summary(id: id, output: output, export) + "\n").utf8))
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
