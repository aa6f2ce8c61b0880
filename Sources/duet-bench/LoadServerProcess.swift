import DuetServer
import DuetWire
import Foundation
import Logging

/// The load bench's server, in a process of its own so its CPU and memory can be read from
/// /proc apart from the load generator's. `duet-bench --serve DIR` runs it: it prints
/// `ready SIGNALING MEDIA` once both ports are bound and serves until its stdin closes.
struct LoadServerProcess {
    let process: Process
    let signaling: HostPort
    /// The media port (relay, SFU): its socket's own kernel drops say whether the server read fast enough.
    let media: HostPort
    private let stdin: Pipe
    private let home: URL

    /// The child's entry point.
    /// `allowingLoopbackPeers`: relay allocations may reach sockets on this machine (the
    /// forwarding benches' peers), as coturn's `--allow-loopback-peers`; off for the load bench.
    /// `database`: a node of several on that PostgreSQL directory (`NodesLoadBench`).
    static func serve(dataDirectory: String, allowingLoopbackPeers: Bool = false, database: String? = nil) async {
        var logger = Logger(label: "duet.bench.load-server")
        // Info: the media port's counts at shutdown go to stderr (DUET_LOAD_VERBOSE shows them).
        logger.logLevel = ProcessInfo.processInfo.environment["DUET_LOAD_VERBOSE"] == nil ? .critical : .info
        var configuration = ServerConfiguration(
            signaling: .loopback(port: 0), media: .loopback(port: 0),
            dataDirectory: dataDirectory, openRegistration: true)
        if allowingLoopbackPeers { configuration.relayPeers = .allowingLoopback }
        configuration.database = database
        do {
            let app = try await ServerApplication.start(configuration, handlingSignals: false, logger: logger)
            print("ready \(app.signalingAddress) \(app.mediaAddress)")
            fflushOut()
            let serving = Task { try await app.run() }
            // The parent closing our stdin (or dying) is the signal to stop.
            await Task.detached { _ = FileHandle.standardInput.readDataToEndOfFile() }.value
            await app.shutdown()
            _ = try? await serving.value
        } catch {
            print("failed \(error)")
            fflushOut()
        }
    }

    /// Starts the child and waits for its ports.
    static func start(allowingLoopbackPeers: Bool = false, database: String? = nil) throws -> LoadServerProcess {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-bench-load-\(UUID().uuidString.prefix(8))")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments =
            ["--serve", home.appendingPathComponent("server").path] + (allowingLoopbackPeers ? [Self.loopbackPeersFlag] : [])
            + (database.map { [Self.databaseFlag, $0] } ?? [])
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        let words = String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count == 3, words[0] == "ready", let signaling = try? HostPort(parsing: words[1]),
            let media = try? HostPort(parsing: words[2])
        else {
            process.terminate()
            throw CallSetupBench.BenchFailure("the load server did not start: \(String(decoding: line, as: UTF8.self))")
        }
        return LoadServerProcess(process: process, signaling: signaling, media: media, stdin: stdin, home: home)
    }

    /// CPU seconds (user + system) the server has used so far.
    var cpuSeconds: Double { ProcessCPU.seconds(of: process.processIdentifier) }

    /// Peak resident memory in MiB (VmHWM).
    var peakMemory: Double {
        guard let status = LoadSample.procFile("/proc/\(process.processIdentifier)/status"),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return (Double(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "") ?? 0) / 1024
    }

    static let loopbackPeersFlag = "--allow-loopback-peers"
    static let databaseFlag = "--database"

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: home)
    }
}

/// Flushes stdout so the parent sees a line at once (stdout is a pipe, so fully buffered).
func fflushOut() {
    fflush(nil)
}
