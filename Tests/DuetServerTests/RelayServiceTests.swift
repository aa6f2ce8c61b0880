import DuetClient
import DuetCrypto
import DuetWire
import Foundation
import Testing

@testable import DuetServer

@Suite("Relay on the media port, with credentials from signaling")
struct RelayServiceTests {
    /// A registered device's connection and the server's relay address.
    static func registered(_ server: TestServer, as number: String) async throws -> ServerConnection {
        let device = TestDevice()
        let (connection, _) = try await device.connect(to: server)
        try await device.register(connection, as: number)
        return connection
    }

    static func relayAddress(_ credentials: RelayCredentials) -> TransportAddress {
        TransportAddress(ipv4: credentials.relay.host, port: UInt16(credentials.relay.port))!
    }

    /// The password the server would issue for `username`, made from the secret in its data
    /// dir: lets a test build credentials the server never handed out (e.g. expired ones).
    static func password(for username: String, server: TestServer) throws -> String {
        let secret = try #require(FileManager.default.contents(atPath: server.dataDirectory + "/" + RelaySecret.fileName))
        return Data(MessageAuthentication.code(.sha256, key: SecureBytes(copying: secret), message: Array(username.utf8)))
            .base64EncodedString()
    }

    @Test func issuedCredentialsNameTheCallTheNumberAndTheMediaPort() async throws {
        let server = try await TestServer.start()
        let alice = try await Self.registered(server, as: "+15552001")
        let credentials = try await alice.relayCredentials(callID: "call-7")
        #expect(credentials.relay == server.app.mediaAddress)
        #expect(credentials.realm == RelayCredentialIssuer.realm)
        #expect(credentials.ttl == .seconds(RelayCredentialIssuer.lifetime))
        let parts = credentials.username.split(separator: ":").map(String.init)
        #expect(parts.count == 3)
        #expect(parts.dropFirst() == ["call-7", "+15552001"])
        let expiry = try #require(Double(parts[0]))
        #expect(expiry > Date().timeIntervalSince1970 && expiry <= Date().timeIntervalSince1970 + RelayCredentialIssuer.lifetime + 1)
        #expect(credentials.password == (try Self.password(for: credentials.username, server: server)))
        #expect(!credentials.description.contains(credentials.password))
        let attributes = try FileManager.default.attributesOfItem(atPath: server.dataDirectory + "/" + RelaySecret.fileName)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? Int) == RelaySecret.byteCount)
        await alice.close()
        try await server.stop()
    }

    /// The peer is a socket on loopback: only a server told to allow loopback peers relays to it.
    @Test func allocatesBindsAChannelAndRelaysBothWaysOverRealSockets() async throws {
        let server = try await TestServer.start(relayPeers: .allowingLoopback)
        let alice = try await Self.registered(server, as: "+15552011")
        let credentials = try await alice.relayCredentials(callID: "call-8")
        let socket = try await UDPTestSocket.bind()
        let peer = try await UDPTestSocket.bind()
        var turn = RelayClientDriver(client: credentials.makeRelayClient(), socket: socket, server: Self.relayAddress(credentials))

        try await turn.start()
        let allocated = try await turn.run { $0.events.contains { if case .allocated = $0 { true } else { false } } }
        #expect(allocated, "allocation failed: \(turn.failure ?? "no answer")")
        guard case let .allocated(relayed, mapped)? = turn.events.first(where: { if case .allocated = $0 { true } else { false } }) else {
            return
        }
        #expect(mapped == socket.address)
        #expect(relayed.ip == [127, 0, 0, 1])
        #expect(relayed.port != Self.relayAddress(credentials).port)

        try await turn.permit(peer.address)
        #expect(
            try await turn.run { $0.events.contains(.channelBound(peer: peer.address)) },
            "channel bind failed: \(turn.failure ?? "no answer")")

        // Client → peer: arrives from the relayed address, payload unchanged.
        try await turn.send([1, 2, 3, 4], to: peer.address)
        let atPeer = await peer.receive()
        #expect(atPeer?.from == relayed)
        #expect(atPeer?.bytes == [1, 2, 3, 4])

        // Peer → relayed address: comes back to the client over the channel.
        try await peer.send([9, 8, 7], to: relayed)
        #expect(try await turn.run { !$0.media.isEmpty })
        #expect(turn.media.first?.peer == peer.address)
        #expect(turn.media.first?.payload == [9, 8, 7])

        // A stranger (another IP: permissions are per IP, RFC 8656 §9) is not let through.
        let stranger = try await UDPTestSocket.bind(host: "127.0.0.2")
        try await stranger.send([6, 6, 6], to: relayed)
        try await peer.send([5], to: relayed)
        #expect(try await turn.run { $0.media.contains { $0.payload == [5] } })
        #expect(!turn.media.contains { $0.payload == [6, 6, 6] })

        try await turn.release()
        await socket.close()
        await peer.close()
        await stranger.close()
        await alice.close()
        try await server.stop()
    }

    /// `duet server`'s default policy: a channel to a loopback peer is refused (403) and
    /// nothing reaches that peer through the relay.
    @Test func aDefaultServerRelaysNothingToALoopbackPeer() async throws {
        let server = try await TestServer.start()
        let alice = try await Self.registered(server, as: "+15552012")
        let credentials = try await alice.relayCredentials(callID: "call-9")
        let socket = try await UDPTestSocket.bind()
        let peer = try await UDPTestSocket.bind()
        var turn = RelayClientDriver(client: credentials.makeRelayClient(), socket: socket, server: Self.relayAddress(credentials))
        try await turn.start()
        #expect(try await turn.run { $0.events.contains { if case .allocated = $0 { true } else { false } } })
        try await turn.permit(peer.address)
        #expect(try await turn.run(timeout: .seconds(5)) { $0.failure != nil })
        #expect(!turn.events.contains(.channelBound(peer: peer.address)))
        try await turn.send([1, 2, 3, 4], to: peer.address)
        #expect(await peer.receive(timeout: .seconds(1)) == nil)
        try await turn.release()
        await socket.close()
        await peer.close()
        await alice.close()
        try await server.stop()
    }

    /// Runs an Allocate with `username`/`password` and returns the failure, or nil if allocated.
    static func allocationFailure(username: String, password: String, server: TransportAddress) async throws -> String? {
        let socket = try await UDPTestSocket.bind()
        defer { Task { await socket.close() } }
        var turn = RelayClientDriver(
            client: RelayClient(username: username, password: password, integrity: STUNIntegrity.longTermCredential),
            socket: socket, server: server)
        try await turn.start()
        let allocated = try await turn.run { $0.events.contains { if case .allocated = $0 { true } else { false } } }
        return allocated ? nil : (turn.failure ?? "no answer")
    }

    @Test func wrongExpiredAndOtherCallsCredentialsAreRefused() async throws {
        let server = try await TestServer.start()
        let alice = try await Self.registered(server, as: "+15552021")
        let mine = try await alice.relayCredentials(callID: "call-a")
        let other = try await alice.relayCredentials(callID: "call-b")
        let relay = Self.relayAddress(mine)

        let wrong = try await Self.allocationFailure(username: mine.username, password: mine.password + "x", server: relay)
        #expect(wrong?.contains("401") == true)
        // Call A's username with call B's password.
        let crossed = try await Self.allocationFailure(username: mine.username, password: other.password, server: relay)
        #expect(crossed?.contains("401") == true)
        // A correctly made password for a username that has expired.
        let expiredName = "\(Int64(Date().timeIntervalSince1970) - 5):call-a:+15552021"
        let expired = try await Self.allocationFailure(
            username: expiredName, password: try Self.password(for: expiredName, server: server), server: relay)
        #expect(expired?.contains("401") == true)
        // The same construction with a future expiry works: the refusal above is the expiry's.
        let freshName = "\(Int64(Date().timeIntervalSince1970) + 60):call-a:+15552021"
        #expect(
            try await Self.allocationFailure(
                username: freshName, password: try Self.password(for: freshName, server: server), server: relay) == nil)
        // And the issued credentials themselves work.
        #expect(try await Self.allocationFailure(username: other.username, password: other.password, server: relay) == nil)
        await alice.close()
        try await server.stop()
    }
}
