import DuetMedia
import Foundation

/// Two numbers whose voices sit in different pitch slots (the tests check that they do).
enum TestNumbers {
    static let alice = "+15551234"
    static let bob = "+15557777"
    static let carol = "+447700900123"
}

enum VoicePipeline {
    /// `frames` of a voice encoded to Opus packets with Duet's call settings.
    static func packets(number: String, frames: Int, encoder: OpusEncoder? = nil) throws -> [[UInt8]] {
        let encoder = try encoder ?? OpusEncoder()
        var voice = SyntheticVoice(number: number)
        return try (0..<frames).map { _ in try encoder.encode(voice.nextFrame()) }
    }

    /// The decoded audio of a voice after one Opus round trip with no loss.
    static func roundTrip(_ source: inout some AudioSource, frames: Int) throws -> [Int16] {
        let encoder = try OpusEncoder()
        let decoder = try OpusDecoder()
        var out: [Int16] = []
        for _ in 0..<frames { out += try decoder.decode(encoder.encode(source.nextFrame())) }
        return out
    }
}

/// Runs an external tool (opus-tools, ffmpeg) the way the tests need: the Makefile installs
/// them, and a missing tool is a failure with a message that says how to fix it.
enum ExternalTool {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func path(_ name: String) throws -> String {
        let directories =
            ["/usr/bin", "/usr/local/bin"] + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw Failure(description: "\(name) is not installed; run `make deps` (apt-get install opus-tools ffmpeg) and rerun the tests")
    }

    /// Runs the tool and returns its standard output; a non-zero exit is a failure carrying stderr.
    @discardableResult
    static func run(_ name: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path(name))
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description:
                    "\(name) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errData, as: UTF8.self))"
            )
        }
        return String(decoding: outData, as: UTF8.self)
    }
}

/// A scratch directory removed when the test is done.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("duet-media-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(at: url) }
}
