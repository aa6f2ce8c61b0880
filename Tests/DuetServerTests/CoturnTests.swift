import DuetClient
import DuetWire
import Foundation
import Testing

/// The client's TURN code against coturn, the TURN server people run: proves `RelayClient`
/// and `TURNCredential` speak RFC 8656 as others do, not only as Duet's relay does.
@Suite("RelayClient against coturn")
struct CoturnTests {
    static let turnserver = "/usr/bin/turnserver"

    /// A coturn process on a free loopback port, killed (by its pid) when the test ends.
    final class Coturn: Sendable {
        let process: Process
        let address: TransportAddress
        let directory: URL

        init() async throws {
            guard FileManager.default.isExecutableFile(atPath: CoturnTests.turnserver) else {
                throw CoturnMissing()
            }
            // A port the kernel just gave out is free (briefly) for coturn to take.
            let probe = try await UDPTestSocket.bind()
            let port = probe.address.port
            await probe.close()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("duet-coturn-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            process = Process()
            process.executableURL = URL(fileURLWithPath: CoturnTests.turnserver)
            process.arguments = [
                "-n", "--listening-ip", "127.0.0.1", "--listening-port", "\(port)", "--relay-ip", "127.0.0.1",
                "--lt-cred-mech", "--user", "u:p", "--realm", "duet.test",
                "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--fingerprint",
                "--db", directory.appendingPathComponent("turndb.sqlite").path,
                "--pidfile", directory.appendingPathComponent("turnserver.pid").path,
                "--log-file", directory.appendingPathComponent("turn.log").path,
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            address = TransportAddress(ipv4: "127.0.0.1", port: port)!
        }

        /// Waits (generously) until coturn answers a STUN Binding.
        func waitUntilReady() async throws -> Bool {
            let socket = try await UDPTestSocket.bind()
            defer { Task { await socket.close() } }
            for _ in 0..<100 where process.isRunning {
                if try await MediaPortTests.reflexiveAddress(of: socket, media: address, timeout: .milliseconds(200)) != nil { return true }
            }
            return false
        }

        /// SIGKILL, by pid: coturn lingers after SIGTERM, and holds nothing worth a clean exit.
        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    struct CoturnMissing: Error, CustomStringConvertible {
        var description: String { "coturn's turnserver is not installed at \(CoturnTests.turnserver); run `make deps` (it installs the Debian package coturn)" }
    }

    @Test func allocatesAndRelaysToALocalPeer() async throws {
        let coturn = try await Coturn()
        defer { coturn.stop() }
        #expect(try await coturn.waitUntilReady(), "turnserver did not answer a STUN Binding; see its log in \(coturn.directory.path)")

        let socket = try await UDPTestSocket.bind()
        let peer = try await UDPTestSocket.bind()
        var turn = RelayClientDriver(client: RelayClient(username: "u", password: "p", integrity: STUNIntegrity.longTermCredential),
                                     socket: socket, server: coturn.address)
        try await turn.start()
        #expect(try await turn.run { $0.events.contains { if case .allocated = $0 { true } else { false } } }, "coturn refused: \(turn.failure ?? "no answer")")
        guard case let .allocated(relayed, mapped)? = turn.events.first(where: { if case .allocated = $0 { true } else { false } }) else { return }
        #expect(mapped == socket.address)

        try await turn.permit(peer.address)
        #expect(try await turn.run { $0.events.contains(.channelBound(peer: peer.address)) }, "coturn refused ChannelBind: \(turn.failure ?? "no answer")")
        try await turn.send(Array("hello peer".utf8), to: peer.address)
        let atPeer = await peer.receive()
        #expect(atPeer?.from == relayed)
        #expect(atPeer?.bytes == Array("hello peer".utf8))

        try await peer.send(Array("hello client".utf8), to: relayed)
        #expect(try await turn.run { $0.media.contains { $0.payload == Array("hello client".utf8) } })
        #expect(turn.media.first?.peer == peer.address)

        // A wrong password is refused by coturn, and the client says so.
        let other = try await UDPTestSocket.bind()
        var refused = RelayClientDriver(client: RelayClient(username: "u", password: "wrong", integrity: STUNIntegrity.longTermCredential),
                                        socket: other, server: coturn.address)
        try await refused.start()
        _ = try await refused.run { _ in false }
        #expect(refused.failure?.contains("401") == true)

        try await turn.release()
        await socket.close(); await peer.close(); await other.close()
    }

    /// A whole call relayed by coturn (`--turn` on both sides), still SRTP end to end.
    @Test func aCallRelayedByCoturn() async throws {
        try await callRelayedByCoturn(callerOver: .udp, numbers: ("+15552301", "+15552302"))
    }

    /// The same over coturn's TCP listener (RFC 8656 §3.1: the client's side is a stream, the
    /// relay's side to the peer stays UDP): `--turn turn:HOST:PORT?transport=tcp`.
    @Test func aCallRelayedByCoturnOverTCP() async throws {
        try await callRelayedByCoturn(callerOver: .tcp, numbers: ("+15552311", "+15552312"))
    }

    /// Alice reaches coturn `callerOver`, Bob over UDP; both hear each other through it.
    func callRelayedByCoturn(callerOver transport: RelayTransport, numbers: (String, String)) async throws {
        let coturn = try await Coturn()
        defer { coturn.stop() }
        #expect(try await coturn.waitUntilReady(), "turnserver did not answer a STUN Binding; see its log in \(coturn.directory.path)")
        let server = try await TestServer.start()
        var options = CallOptions()
        options.forceRelay = true
        options.externalTURN = ExternalTURN(server: coturn.address, username: "u", password: "p", transports: [transport])
        var answering = options
        answering.autoAnswer = true
        answering.externalTURN?.transports = [.udp]
        let alice = try await CallTestDevice.make(numbers.0, name: "Alice", on: server, options: options)
        let bob = try await CallTestDevice.make(numbers.1, name: "Bob", on: server, options: answering)
        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .relay(transport), "alice: \(alice.events.log)")
        #expect(await bob.events.waitForConnected() == .relay(.udp), "bob: \(bob.events.log)")
        #expect(await alice.events.waitForHearing(bob.number) != nil, "alice: \(alice.events.log)")
        #expect(await bob.events.waitForHearing(alice.number) != nil, "bob: \(bob.events.log)")
        await alice.engine.hangUp()
        #expect(await bob.events.waitForEnd() == .hungUpByPeer)
        await alice.close(); await bob.close()
        try await server.stop()
    }
}
