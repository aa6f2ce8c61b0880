import Foundation
import NetworkLab

/// Runs the real `duet` binary that `swift build` put beside this test bundle, with its own
/// DUET_HOME, and captures what it prints.
struct DuetCommandLine {
    let home: URL
    /// Run inside this network namespace (a host of a `NetworkLab`), or on the machine itself.
    var namespace: String?

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("duet")
    }

    /// Points `process` at `duet arguments`, inside `namespace` (a `NetworkLab` host) if given.
    static func aim(_ process: Process, at arguments: [String], in namespace: String?) {
        guard let namespace else {
            process.executableURL = binary
            process.arguments = arguments
            return
        }
        let command = NetworkLab.command([binary.path] + arguments, in: namespace)
        process.executableURL = command.executable
        process.arguments = command.arguments
    }

    func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Result {
        let process = Process()
        Self.aim(process, at: arguments, in: namespace)
        var environment = ProcessInfo.processInfo.environment
        environment["DUET_HOME"] = home.path
        environment.removeValue(forKey: "DUET_PASSPHRASE")
        environment.merge(extra) { $1 }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
