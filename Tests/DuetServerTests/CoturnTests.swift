import DuetServer
import DuetWire
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import DuetClient

/// The client's TURN code against coturn, the TURN server people run: proves `RelayClient`
/// and `TURNCredential` speak RFC 8656 as others do, not only as Duet's relay does.
@Suite("RelayClient against coturn")
struct CoturnTests {
    static let turnserver = "/usr/bin/turnserver"

    /// A coturn process on a free loopback port, killed (by its pid) when the test ends. With
    /// `tls`, it also listens for TURN over TLS (`tlsAddress`) with a fresh self-signed
    /// certificate whose SHA-256 fingerprint is `certificate`.
    final class Coturn: Sendable {
        let process: Process
        let address: TransportAddress
        let tlsAddress: TransportAddress?
        let certificate: CertificateFingerprint?
        let directory: URL

        /// `restSecret`: coturn checks TURN REST credentials made with it (`use-auth-secret`)
        /// instead of the fixed user u:p.
        init(tls: Bool = false, restSecret: String? = nil) async throws {
            guard FileManager.default.isExecutableFile(atPath: CoturnTests.turnserver) else {
                throw CoturnMissing()
            }
            // A port the kernel just gave out is free (briefly) for coturn to take.
            let probe = try await UDPTestSocket.bind()
            let port = probe.address.port
            await probe.close()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("duet-coturn-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var arguments = [
                "-n", "--listening-ip", "127.0.0.1", "--listening-port", "\(port)", "--relay-ip", "127.0.0.1",
                "--realm", "duet.test",
                "--no-dtls", "--no-cli", "--allow-loopback-peers", "--fingerprint",
                "--db", directory.appendingPathComponent("turndb.sqlite").path,
                "--pidfile", directory.appendingPathComponent("turnserver.pid").path,
                "--log-file", directory.appendingPathComponent("turn.log").path
            ]
            arguments += restSecret.map { ["--use-auth-secret", "--static-auth-secret=\($0)"] } ?? ["--lt-cred-mech", "--user", "u:p"]
            if tls {
                let tlsPort = try await Self.freeTCPPort()
                let (cert, key) = (directory.appendingPathComponent("cert.pem").path, directory.appendingPathComponent("key.pem").path)
                _ = try Self.openssl([
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", "/CN=turn.duet.test", "-days", "1", "-keyout", key, "-out", cert
                ])
                let printed = try Self.openssl(["x509", "-noout", "-fingerprint", "-sha256", "-in", cert])
                certificate = try CertificateFingerprint(parsing: String(printed.split(separator: "=").last ?? ""))
                arguments += ["--tls-listening-port", "\(tlsPort)", "--cert", cert, "--pkey", key]
                tlsAddress = TransportAddress(ipv4: "127.0.0.1", port: tlsPort)
            } else {
                arguments.append("--no-tls")
                (tlsAddress, certificate) = (nil, nil)
            }
            process = Process()
            process.executableURL = URL(fileURLWithPath: CoturnTests.turnserver)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            address = TransportAddress(ipv4: "127.0.0.1", port: port)!
        }

        private static func freeTCPPort() async throws -> UInt16 {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
            let port = UInt16(channel.localAddress?.port ?? 0)
            try await channel.close()
            return port
        }

        /// Runs the openssl command line; its standard output.
        private static func openssl(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
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
        var description: String {
            "coturn's turnserver is not installed at \(CoturnTests.turnserver); run `make deps` (it installs the Debian package coturn)"
        }
    }

    @Test func allocatesAndRelaysToALocalPeer() async throws {
        let coturn = try await Coturn()
        defer { coturn.stop() }
        #expect(try await coturn.waitUntilReady(), "turnserver did not answer a STUN Binding; see its log in \(coturn.directory.path)")

        let socket = try await UDPTestSocket.bind()
        let peer = try await UDPTestSocket.bind()
        var turn = RelayClientDriver(
            client: RelayClient(username: "u", password: "p", integrity: STUNIntegrity.longTermCredential),
            socket: socket, server: coturn.address)
        try await turn.start()
        #expect(
            try await turn.run { $0.events.contains { if case .allocated = $0 { true } else { false } } },
            "coturn refused: \(turn.failure ?? "no answer")")
        guard case let .allocated(relayed, mapped)? = turn.events.first(where: { if case .allocated = $0 { true } else { false } }) else {
            return
        }
        #expect(mapped == socket.address)

        try await turn.permit(peer.address)
        #expect(
            try await turn.run { $0.events.contains(.channelBound(peer: peer.address)) },
            "coturn refused ChannelBind: \(turn.failure ?? "no answer")")
        try await turn.send(Array("hello peer".utf8), to: peer.address)
        let atPeer = await peer.receive()
        #expect(atPeer?.from == relayed)
        #expect(atPeer?.bytes == Array("hello peer".utf8))

        try await peer.send(Array("hello client".utf8), to: relayed)
        #expect(try await turn.run { $0.media.contains { $0.payload == Array("hello client".utf8) } })
        #expect(turn.media.first?.peer == peer.address)

        // A wrong password is refused by coturn, and the client says so.
        let other = try await UDPTestSocket.bind()
        var refused = RelayClientDriver(
            client: RelayClient(username: "u", password: "wrong", integrity: STUNIntegrity.longTermCredential),
            socket: other, server: coturn.address)
        try await refused.start()
        _ = try await refused.run { _ in false }
        #expect(refused.failure?.contains("401") == true)

        try await turn.release()
        await socket.close()
        await peer.close()
        await other.close()
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

    /// Over coturn's TLS listener (`--turn turns:HOST:PORT --turn-certificate FINGERPRINT`): the
    /// certificate is pinned as the Duet server's is.
    @Test func aCallRelayedByCoturnOverTLS() async throws {
        try await callRelayedByCoturn(callerOver: .tls, numbers: ("+15552321", "+15552322"))
    }

    /// A `turns:` relay that shows another certificate than the one named is not used, and the
    /// device says why (a network that intercepts TLS must not get the relay's credentials).
    @Test func aTLSRelayShowingAnotherCertificateIsNotUsed() async throws {
        let coturn = try await Coturn(tls: true)
        defer { coturn.stop() }
        #expect(try await coturn.waitUntilReady(), "turnserver did not answer a STUN Binding; see its log in \(coturn.directory.path)")
        let someoneElses = try #require(CertificateFingerprint(digest: [UInt8](repeating: 0xAB, count: 32)))
        do {
            _ = try await RelayLink.stream(to: try #require(coturn.tlsAddress), tls: true, pinned: someoneElses) { _ in }
            Issue.record("a relay with another certificate was used")
        } catch let error as RelayLinkError {
            #expect(error.description.contains("not the one named"))
        }
        // Control: the certificate it does show is accepted.
        let link = try await RelayLink.stream(to: try #require(coturn.tlsAddress), tls: true, pinned: coturn.certificate) { _ in }
        #expect(link.isOpen)
        link.close()
    }

    /// Alice reaches coturn `callerOver`, Bob over UDP; both hear each other through it.
    func callRelayedByCoturn(callerOver transport: RelayTransport, numbers: (String, String)) async throws {
        let coturn = try await Coturn(tls: transport == .tls)
        defer { coturn.stop() }
        #expect(try await coturn.waitUntilReady(), "turnserver did not answer a STUN Binding; see its log in \(coturn.directory.path)")
        let server = try await TestServer.start()
        var options = CallOptions()
        options.forceRelay = true
        options.externalTURN = ExternalTURN(
            server: transport == .tls ? try #require(coturn.tlsAddress) : coturn.address, username: "u", password: "p",
            transports: [transport], certificate: coturn.certificate)
        var answering = options
        answering.autoAnswer = true
        answering.externalTURN = ExternalTURN(server: coturn.address, username: "u", password: "p", transports: [.udp])
        let alice = try await CallTestDevice.make(numbers.0, name: "Alice", on: server, options: options)
        let bob = try await CallTestDevice.make(numbers.1, name: "Bob", on: server, options: answering)
        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .relay(transport), "alice: \(alice.events.log)")
        #expect(await bob.events.waitForConnected() == .relay(.udp), "bob: \(bob.events.log)")
        #expect(await alice.events.waitForHearing(bob.number) != nil, "alice: \(alice.events.log)")
        #expect(await bob.events.waitForHearing(alice.number) != nil, "bob: \(bob.events.log)")
        await alice.engine.hangUp()
        #expect(await bob.events.waitForEnd() == .hungUpByPeer)
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    /// `duet server --turn-secret S --turn-url turn:HOST:PORT`: the server hands out coturn's
    /// REST credentials; coturn takes them (and refuses one whose password was not made with
    /// the secret), and a call forced through the relay goes through coturn.
    @Test func theServerHandsOutCredentialsCoturnTakes() async throws {
        let secret = "duet-test-\(UUID().uuidString)"
        let coturn = try await Coturn(restSecret: secret)
        defer { coturn.stop() }
        #expect(try await coturn.waitUntilReady(), "turnserver did not answer a STUN Binding; see its log in \(coturn.directory.path)")
        let server = try await TestServer.start(coturn: try CoturnRelay(secret: secret, url: "turn:\(coturn.address)"))
        let device = TestDevice()
        let (connection, _) = try await device.connect(to: server)
        try await device.register(connection, as: "+15552331")
        let credentials = try await connection.relayCredentials(callID: "call-1")
        #expect(credentials.relay == HostPort(host: "127.0.0.1", port: Int(coturn.address.port)), "the relay named is coturn")
        #expect(credentials.username.hasSuffix(":+15552331"))

        for (password, accepted) in [(credentials.password, true), ("d3Jvbmc=", false)] {
            let socket = try await UDPTestSocket.bind()
            var turn = RelayClientDriver(
                client: RelayClient(username: credentials.username, password: password, integrity: STUNIntegrity.longTermCredential),
                socket: socket, server: coturn.address)
            try await turn.start()
            let allocated = try await turn.run { $0.events.contains { if case .allocated = $0 { true } else { false } } }
            #expect(allocated == accepted, "coturn: \(turn.failure ?? "allocated")")
            if allocated { try await turn.release() }
            await socket.close()
        }
        await connection.close()

        var relayed = CallOptions()
        relayed.forceRelay = true
        var answering = relayed
        answering.autoAnswer = true
        let alice = try await CallTestDevice.make("+15552332", name: "Alice", on: server, options: relayed)
        let bob = try await CallTestDevice.make("+15552333", name: "Bob", on: server, options: answering)
        try await alice.engine.place(to: bob.number)
        #expect(await alice.events.waitForConnected() == .relay(.udp), "alice: \(alice.events.log)")
        #expect(await bob.events.waitForHearing(alice.number) != nil, "bob: \(bob.events.log)")
        #expect(await alice.events.waitForHearing(bob.number) != nil, "alice: \(alice.events.log)")
        await alice.engine.hangUp()
        await alice.close()
        await bob.close()
        try await server.stop()
    }
}
