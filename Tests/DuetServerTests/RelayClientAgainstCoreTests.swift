import DuetCrypto
import DuetWire
import Testing

@testable import DuetClient
@testable import DuetServer

/// The TURN client and the server's relay core talking to each other in memory: the same
/// code paths a relayed call takes, minus the sockets.
@Suite("TURN client ↔ relay core")
struct RelayClientAgainstCoreTests {
    let client = TransportAddress(ipv4: "127.0.0.1", port: 50000)!
    let peer = TransportAddress(ipv4: "127.0.0.1", port: 50002)!
    let relayed = TransportAddress(ipv4: "127.0.0.1", port: 49200)!

    static func integrity(_ user: String, _ realm: String, _ password: String) -> STUNIntegrity {
        let key = SecureBytes(copying: Array("\(user):\(realm):\(password)".utf8))
        return STUNIntegrity(kind: .sha256) { MessageAuthentication.code(.sha256, key: key, message: $0) }
    }

    @Test func allocatesBindsAChannelAndRelaysBothWays() throws {
        var core = RelayCore(
            credentials: .init(realm: "duet", password: { u, _ in u == "u1" ? "p1" : nil }, integrity: Self.integrity), nonce: "n",
            policy: .allowingLoopback)  // the peer is on this host
        var turn = RelayClient(username: "u1", password: "p1", integrity: Self.integrity)
        var toServer: [[UInt8]] = []
        var events: [RelayClient.Action] = []
        func absorb(_ actions: [RelayClient.Action]) {
            for a in actions { if case let .send(b) = a { toServer.append(b) } else { events.append(a) } }
        }
        func pump(now: Double) {
            while !toServer.isEmpty {
                let bytes = toServer.removeFirst()
                for action in core.handleClientDatagram(bytes, from: client, now: now) {
                    switch action {
                    case let .sendToClient(_, reply): absorb(turn.receive(reply, now: now))
                    case let .bindRelaySocket(p):
                        for a in core.allocationBound(p, relayedAddress: relayed, now: now) {
                            if case let .sendToClient(_, reply) = a { absorb(turn.receive(reply, now: now)) }
                        }
                    default: break
                    }
                }
            }
        }
        absorb(turn.start(now: 0))
        pump(now: 0)
        #expect(turn.state == .allocated(relayed))
        #expect(events.contains(.allocated(relayed: relayed, mapped: client)))
        absorb(turn.permit(peer, now: 1))
        pump(now: 1)
        #expect(events.contains(.channelBound(peer: peer)))
        // Client → peer goes out of the relayed socket.
        let out = core.handleClientDatagram(turn.wrap([1, 2, 3], to: peer), from: client, now: 2)
        #expect(out == [.sendToPeer(relayedAddress: relayed, peer: peer, [1, 2, 3])])
        // Peer → relayed socket comes back to the client, and unwraps.
        guard case let .sendToClient(_, inbound)? = core.handlePeerDatagram([4, 5], from: peer, to: relayed, now: 2).first else {
            Issue.record("nothing relayed back")
            return
        }
        #expect(turn.unwrap(inbound)?.payload == [4, 5])
        #expect(turn.unwrap(inbound)?.peer == peer)
        // Release closes the allocation on the server.
        absorb(turn.release(now: 3))
        let released = core.handleClientDatagram(toServer.removeFirst(), from: client, now: 3)
        #expect(released.contains(.closeRelaySocket(relayed)))
    }

    @Test func wrongPasswordFailsWithTheServersReason() {
        var core = RelayCore(
            credentials: .init(realm: "duet", password: { _, _ in "right" }, integrity: Self.integrity), nonce: "n",
            policy: .allowingLoopback)  // the peer is on this host
        var turn = RelayClient(username: "u1", password: "wrong", integrity: Self.integrity)
        var queue: [[UInt8]] = []
        var failures: [String] = []
        for a in turn.start(now: 0) { if case let .send(b) = a { queue.append(b) } }
        var rounds = 0
        while let bytes = queue.first, rounds < 10 {
            queue.removeFirst()
            rounds += 1
            for case let .sendToClient(_, reply) in core.handleClientDatagram(bytes, from: client, now: 0) {
                for a in turn.receive(reply, now: 0) {
                    switch a {
                    case let .send(b): queue.append(b)
                    case let .failed(reason): failures.append(reason)
                    default: break
                    }
                }
            }
        }
        #expect(failures.count == 1)
        #expect(failures.first?.contains("401") == true)
        guard case .failed = turn.state else {
            Issue.record("state \(turn.state)")
            return
        }
    }
}
