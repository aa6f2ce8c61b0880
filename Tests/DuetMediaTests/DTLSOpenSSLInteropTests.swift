import DuetCrypto
import Foundation
import Glibc
import Testing

@testable import DuetMedia

/// Duet's DTLS endpoints against OpenSSL's own `s_server` and `s_client` over real UDP on loopback: the
/// exported keying material must equal what s_server prints, so the RFC 5764 export (label,
/// length, no context) matches another implementation, not just itself.
@Suite("DTLS-SRTP against the openssl command line", .serialized)
struct DTLSOpenSSLInteropTests {
    static let openssl = "/usr/bin/openssl"
    static let hasOpenSSL = FileManager.default.isExecutableFile(atPath: openssl)

    /// A temporary folder with a fresh P-256 certificate and key made by the openssl command,
    /// as another implementation's peer would have.
    static func makeCertificate() throws -> (directory: URL, certificate: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("duet-dtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("c.pem").path, key = directory.appendingPathComponent("k.pem").path
        _ = try run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", "/CN=test", "-days", "1", "-keyout", key, "-out", cert
        ])
        return (directory, cert, key)
    }

    @Test(.enabled(if: hasOpenSSL, "needs /usr/bin/openssl (apt install openssl) to run s_server"))
    func clientExportsWhatSServerExports() throws {
        let (directory, cert, key) = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let serverFingerprint = try #require(try Self.fingerprint(ofPEMFile: cert))

        let port = try Self.freeUDPPort()
        let log = directory.appendingPathComponent("s_server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Self.openssl)
        server.arguments = [
            "s_server", "-dtls1_2", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key,
            "-use_srtp", "SRTP_AES128_CM_SHA1_80",
            "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60", "-naccept", "1"
        ]
        // s_server quits when its stdin ends: hold a pipe open for as long as it runs.
        let stdin = Pipe()
        server.standardInput = stdin
        let output = try FileHandle(forWritingTo: log)
        server.standardOutput = output
        server.standardError = output
        try server.run()
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            try? stdin.fileHandleForWriting.close()
            try? output.close()
        }
        try #require(Self.waitFor(in: log, timeout: 5) { $0.contains("ACCEPT") } != nil, "s_server did not start: \(Self.text(log))")

        let certificate = try DTLSCertificate()
        let endpoint = try DTLSEndpoint(
            role: .client, certificate: certificate, peerFingerprint: serverFingerprint,
            initialRetransmissionTimeout: .milliseconds(200))
        let socket = try UDPLoopbackSocket(connectingTo: port)
        var keys: DTLSSRTPKeys?
        var failure: DTLSError?
        func perform(_ actions: [DTLSAction]) {
            for action in actions {
                switch action {
                case let .send(datagram): socket.send(datagram)
                case let .connected(k): keys = k
                case let .failed(error): failure = error
                case .closed, .discarded: break
                }
            }
        }
        perform(endpoint.start())
        let deadline = Date().addingTimeInterval(10)
        while keys == nil && failure == nil && Date() < deadline {
            if let datagram = socket.receive() { perform(endpoint.receive(datagram)) } else { perform(endpoint.tick()) }
        }
        #expect(failure == nil, "\(String(describing: failure)); s_server said: \(Self.text(log))")
        let exported = try #require(keys)
        #expect(exported.profile == .aesCM128HMACSHA1_80)
        #expect(exported.peerFingerprint == serverFingerprint)

        let line = try #require(
            Self.waitFor(in: log, timeout: 5) { $0.contains("Keying material: ") },
            "s_server printed no keying material: \(Self.text(log))")
        let hex = line.components(separatedBy: "Keying material: ")[1].trimmingCharacters(in: .whitespaces)
        #expect(hex.count == 120)
        #expect(hex.lowercased() == SecureHex.string(exported.keyingMaterial.bytes))
    }

    /// The other way round: `openssl s_client` (with its own certificate, which Duet's server
    /// insists on) against Duet's server endpoint.
    @Test(.enabled(if: hasOpenSSL, "needs /usr/bin/openssl (apt install openssl) to run s_client"))
    func serverExportsWhatSClientExports() throws {
        let (directory, cert, key) = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let clientFingerprint = try #require(try Self.fingerprint(ofPEMFile: cert))

        let socket = try UDPLoopbackSocket(connectingTo: nil)
        let log = directory.appendingPathComponent("s_client.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let client = Process()
        client.executableURL = URL(fileURLWithPath: Self.openssl)
        client.arguments = [
            "s_client", "-dtls1_2", "-connect", "127.0.0.1:\(socket.localPort)", "-cert", cert, "-key", key,
            "-use_srtp", "SRTP_AES128_CM_SHA1_80",
            "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60"
        ]
        let stdin = Pipe()  // s_client, too, quits when its stdin ends
        client.standardInput = stdin
        let output = try FileHandle(forWritingTo: log)
        client.standardOutput = output
        client.standardError = output

        let endpoint = try DTLSEndpoint(role: .server, certificate: DTLSCertificate(), peerFingerprint: clientFingerprint)
        try client.run()
        defer {
            kill(client.processIdentifier, SIGKILL)
            client.waitUntilExit()
            try? stdin.fileHandleForWriting.close()
            try? output.close()
        }
        var keys: DTLSSRTPKeys?
        var failure: DTLSError?
        let deadline = Date().addingTimeInterval(10)
        while keys == nil && failure == nil && Date() < deadline {
            let actions = socket.receiveFromAnyPeer().map { endpoint.receive($0) } ?? endpoint.tick()
            for action in actions {
                switch action {
                case let .send(datagram): socket.send(datagram)
                case let .connected(k): keys = k
                case let .failed(error): failure = error
                case .closed, .discarded: break
                }
            }
        }
        #expect(failure == nil, "\(String(describing: failure)); s_client said: \(Self.text(log))")
        let exported = try #require(keys)
        let line = try #require(
            Self.waitFor(in: log, timeout: 5) { $0.contains("Keying material: ") },
            "s_client printed no keying material: \(Self.text(log))")
        let hex = line.components(separatedBy: "Keying material: ")[1].trimmingCharacters(in: .whitespaces)
        #expect(hex.lowercased() == SecureHex.string(exported.keyingMaterial.bytes))
        #expect(exported.peerFingerprint == clientFingerprint)
    }

    /// `openssl s_client` meets the server's cookie exchange (`DTLSHelloVerifier`, as the SFU
    /// runs it): it answers the HelloVerifyRequest by itself and the handshake completes.
    @Test(.enabled(if: hasOpenSSL, "needs /usr/bin/openssl (apt install openssl) to run s_client"))
    func sClientAnswersTheCookieExchangeAndConnects() throws {
        let (directory, cert, key) = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let clientFingerprint = try #require(try Self.fingerprint(ofPEMFile: cert))
        let socket = try UDPLoopbackSocket(connectingTo: nil)
        let log = directory.appendingPathComponent("s_client.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let client = Process()
        client.executableURL = URL(fileURLWithPath: Self.openssl)
        client.arguments = [
            "s_client", "-dtls1_2", "-connect", "127.0.0.1:\(socket.localPort)", "-cert", cert, "-key", key,
            "-use_srtp", "SRTP_AES128_CM_SHA1_80"
        ]
        let stdin = Pipe()  // s_client quits when its stdin ends
        client.standardInput = stdin
        let output = try FileHandle(forWritingTo: log)
        client.standardOutput = output
        client.standardError = output
        let verifier = try DTLSHelloVerifier(certificate: DTLSCertificate(), profiles: [.aesCM128HMACSHA1_80])
        try client.run()
        defer {
            kill(client.processIdentifier, SIGKILL)
            client.waitUntilExit()
            try? stdin.fileHandleForWriting.close()
            try? output.close()
        }
        var endpoint: DTLSEndpoint?
        var challenges = 0
        var keys: DTLSSRTPKeys?
        let deadline = Date().addingTimeInterval(10)
        while keys == nil && Date() < deadline {
            guard let datagram = socket.receiveFromAnyPeer() else {
                for bytes in (endpoint?.tick() ?? []).compactMap(Self.sent) { socket.send(bytes) }
                continue
            }
            var actions: [DTLSAction] = []
            if let endpoint {
                actions = endpoint.receive(datagram)
            } else {
                switch verifier.receive(datagram, from: Array("s_client".utf8)) {
                case let .challenge(request):
                    challenges += 1
                    socket.send(request)
                case let .accepted(accepted, first):
                    endpoint = accepted
                    actions = first
                case .dropped: break
                }
            }
            for action in actions {
                if let bytes = Self.sent(action) { socket.send(bytes) }
                if case let .connected(exported) = action { keys = exported }
            }
        }
        #expect(challenges >= 1)
        #expect(keys?.peerFingerprint == clientFingerprint, "s_client said: \(Self.text(log))")
    }

    static func sent(_ action: DTLSAction) -> [UInt8]? {
        if case let .send(bytes) = action { bytes } else { nil }
    }

    @Test(.enabled(if: hasOpenSSL, "needs /usr/bin/openssl (apt install openssl)"))
    func certificateFingerprintMatchesOpenSSLsCommandLine() throws {
        let certificate = try DTLSCertificate()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("duet-dtls-\(UUID().uuidString).pem")
        try certificate.pemCertificate.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try Self.fingerprint(ofPEMFile: file.path) == certificate.fingerprint)
        let text = try Self.run(["x509", "-noout", "-text", "-in", file.path])
        #expect(text.contains("ecdsa-with-SHA256") && text.contains("prime256v1") && text.contains("Version: 3"))
    }

    // MARK: - Helpers

    /// Runs the openssl command line to completion and returns what it printed.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// `openssl x509 -fingerprint -sha256` prints "sha256 Fingerprint=AB:CD:…".
    static func fingerprint(ofPEMFile path: String) throws -> DTLSFingerprint? {
        let output = try run(["x509", "-noout", "-fingerprint", "-sha256", "-in", path])
        guard let equals = output.firstIndex(of: "=") else { return nil }
        return DTLSFingerprint(String(output[output.index(after: equals)...]).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func text(_ file: URL) -> String { (try? String(contentsOf: file, encoding: .utf8)) ?? "" }

    /// Polls a log file for a line that satisfies `match`.
    static func waitFor(in file: URL, timeout: TimeInterval, _ match: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let line = text(file).split(separator: "\n").map(String.init).first(where: match) { return line }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        return nil
    }

    /// A port the kernel just handed out for UDP on loopback (free for a moment after).
    static func freeUDPPort() throws -> UInt16 {
        let probe = try UDPLoopbackSocket(connectingTo: nil)
        return probe.localPort
    }
}

/// A blocking POSIX UDP socket on 127.0.0.1 with a 50 ms receive timeout.
final class UDPLoopbackSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let descriptor: Int32
    private var connectedPeer = false

    /// Connects to 127.0.0.1:`port`, or only binds to an ephemeral port when `port` is nil.
    init(connectingTo port: UInt16?) throws {
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw Failure(description: "bind: errno \(errno)")
        }
        if let port {
            address.sin_port = port.bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(descriptor)
                throw Failure(description: "connect: errno \(errno)")
            }
            connectedPeer = true
        }
    }

    deinit { close(descriptor) }

    var localPort: UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    func send(_ datagram: [UInt8]) {
        _ = datagram.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Like `receive()`, for a socket not yet connected: the first datagram's sender becomes
    /// the connected peer, so `send` answers it.
    func receiveFromAnyPeer() -> [UInt8]? {
        if connectedPeer { return receive() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var peer = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, bytes.baseAddress, bytes.count, 0, $0, &length)
                }
            }
        }
        guard count > 0 else { return nil }
        let connected = withUnsafePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, length) }
        }
        connectedPeer = connected == 0
        return Array(buffer.prefix(count))
    }

    /// The next datagram, or nil after the 50 ms timeout (or an ICMP error before the peer listens).
    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(buffer.prefix(count)) : nil
    }
}
