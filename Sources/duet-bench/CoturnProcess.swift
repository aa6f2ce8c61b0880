import DuetClient
import DuetCrypto
import DuetWire
import Foundation

/// coturn's turnserver for `RelayCoturnBench`: started on a free loopback port with long-term
/// credentials, loopback peers allowed and everything else it would open (TCP, TLS, DTLS, its
/// CLI) off, its database and log in a temporary folder — as Tests/DuetServerTests/CoturnTests.swift
/// starts it. Killed (SIGKILL, by pid: it lingers after SIGTERM) by `stop`, which every path of
/// the bench calls.
final class CoturnProcess: Sendable {
    static let executable = "/usr/bin/turnserver"
    static let username = "bench"
    static let password = "bench-relay"

    let process: Process
    let address: TransportAddress
    private let directory: URL

    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    /// Starts coturn and waits until it answers a STUN Binding (5 s at most).
    init() throws {
        // A port the kernel just gave out is free (briefly) for coturn to take.
        let port = try LoopbackSocket().address.port
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("duet-bench-coturn-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = [
            "-n", "--listening-ip", Loopback.ipv4, "--listening-port", "\(port)", "--relay-ip", Loopback.ipv4,
            "--lt-cred-mech", "--user", "\(Self.username):\(Self.password)", "--realm", "duet.bench",
            "--no-tcp", "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--fingerprint",
            "--no-stdout-log", "--simple-log",
            "--db", directory.appendingPathComponent("turndb.sqlite").path,
            "--pidfile", directory.appendingPathComponent("turnserver.pid").path,
            "--log-file", directory.appendingPathComponent("turn.log").path
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        address = TransportAddress(ip: Loopback.ipv4Bytes, port: port)
        try process.run()
        guard waitUntilReady() else {
            stop()
            throw CallSetupBench.BenchFailure("coturn did not answer a STUN Binding on \(address)")
        }
    }

    private func waitUntilReady() -> Bool {
        guard let socket = try? LoopbackSocket() else { return false }
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, process.isRunning {
            let request = STUNMessage(
                method: .binding, messageClass: .request, transactionID: SecureRandom.bytes(STUNMessage.transactionIDCount))
            socket.send(request.encoded(fingerprint: true), to: address)
            if !LoopbackSocket.readable([socket], milliseconds: 100).isEmpty, socket.receiveWithSender() != nil { return true }
        }
        return false
    }

    /// CPU seconds coturn has used, every thread of it.
    var cpuSeconds: Double { ProcessCPU.seconds(of: process.processIdentifier) }

    /// A TURN client for coturn's one user.
    func makeRelayClient() -> RelayClient {
        RelayClient(username: Self.username, password: Self.password, integrity: STUNIntegrity.longTermCredential)
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
