import DuetCrypto
import DuetWire
import Testing

@testable import DuetServer

// Single-threaded and socket-free, so TSan has little to check here, and its runtime crashes
// on every test below that builds a request with STUNMessage.randomTransactionID (SEGV inside
// __tsan::MemoryAccess on the inout RNG access, every time, also one test alone): those are
// `.disabled(if: Sanitizer.isThread, …)`; see docs/sanitizers.md. All run in make test and ASan.
@Suite("TURN relay core (RFC 8656 subset)")
struct RelayCoreTests {
    static let tsanCrash: Comment = "ThreadSanitizer's runtime crashes (SEGV) on this single-threaded test"

    static let serverKey = SecureBytes(randomCount: 32)
    let client = TransportAddress(ipv4: "10.0.0.2", port: 50000)!
    // Public (documentation-range) peers: the default `RelayPeerPolicy` refuses private ones.
    let peer = TransportAddress(ipv4: "198.51.100.9", port: 6000)!
    let stranger = TransportAddress(ipv4: "198.51.100.66", port: 6000)!
    let relayed = TransportAddress(ipv4: "127.0.0.1", port: 49152)!

    /// Test credentials: one user whose password is valid until t = 1000. Integrity here is
    /// HMAC-SHA256 keyed by user:realm:password (the core does not care which HMAC it is).
    static func integrity(_ user: String, _ realm: String, _ password: String) -> STUNIntegrity {
        let key = SecureBytes(copying: Array("\(user):\(realm):\(password)".utf8))
        return STUNIntegrity(kind: .sha256) { MessageAuthentication.code(.sha256, key: key, message: $0) }
    }

    func makeCore() -> RelayCore {
        RelayCore(
            credentials: .init(
                realm: "duet", password: { user, now in user == "call-1" && now < 1000 ? "pw" : nil },
                integrity: Self.integrity), nonce: "n1")
    }

    func request(
        _ method: STUNMessage.Method, _ attributes: [STUNAttribute] = [], user: String = "call-1", password: String = "pw",
        peerAddress: TransportAddress? = nil, nonce: String = "n1"
    ) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        var m = STUNMessage(method: method, messageClass: .request, transactionID: STUNMessage.randomTransactionID(using: &rng))
        if let peerAddress { m.attributes.append(m.xorAddress(.xorPeerAddress, peerAddress)) }
        m.attributes += attributes + [.text(.username, user), .text(.realm, "duet"), .text(.nonce, nonce)]
        return m.encoded(integrity: Self.integrity(user, "duet", password), fingerprint: true)
    }

    func response(_ actions: [RelayAction]) throws -> STUNMessage {
        guard case let .sendToClient(_, bytes)? = actions.first else { throw CoreFailure.noResponse(actions) }
        return try STUNMessage(parsing: bytes)
    }

    enum CoreFailure: Error { case noResponse([RelayAction]) }

    /// Allocates for `client` and returns the core.
    func allocated() throws -> RelayCore {
        var core = makeCore()
        let actions = core.handleClientDatagram(request(.allocate, [.requestedTransportUDP]), from: client, now: 0)
        guard case let .bindRelaySocket(pending)? = actions.first else { throw CoreFailure.noResponse(actions) }
        let done = core.allocationBound(pending, relayedAddress: relayed, now: 0)
        let success = try response(done)
        #expect(success.messageClass == .success)
        #expect(try success.address(.xorRelayedAddress) == relayed)
        #expect(try success.address(.xorMappedAddress) == client)
        return core
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash)) func unauthenticatedAllocateIsChallenged() throws {
        var core = makeCore()
        var rng = SystemRandomNumberGenerator()
        let bare = STUNMessage(
            method: .allocate, messageClass: .request, transactionID: STUNMessage.randomTransactionID(using: &rng),
            attributes: [.requestedTransportUDP]
        ).encoded()
        let challenge = try response(core.handleClientDatagram(bare, from: client, now: 0))
        #expect(challenge.errorCode?.code == 401)
        #expect(challenge.text(.realm) == "duet" && challenge.text(.nonce) == "n1")
        #expect(
            try response(core.handleClientDatagram(request(.allocate, [.requestedTransportUDP], password: "wrong"), from: client, now: 0))
                .errorCode?.code == 401)
        #expect(
            try response(core.handleClientDatagram(request(.allocate, [.requestedTransportUDP], user: "call-2"), from: client, now: 0))
                .errorCode?.code == 401)
        // Credentials are valid for the call only: after expiry they are refused.
        #expect(
            try response(core.handleClientDatagram(request(.allocate, [.requestedTransportUDP]), from: client, now: 1000)).errorCode?.code
                == 401)
        #expect(
            try response(core.handleClientDatagram(request(.allocate, [.requestedTransportUDP], nonce: "old"), from: client, now: 0))
                .errorCode?.code == 438)
        #expect(core.allocationCount == 0)
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash)) func secondAllocateFromTheSameClientIsAMismatch() throws {
        var core = try allocated()
        #expect(
            try response(core.handleClientDatagram(request(.allocate, [.requestedTransportUDP]), from: client, now: 1)).errorCode?.code
                == 437)
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash)) func dataFlowsOnlyToAndFromPermittedPeers() throws {
        var core = try allocated()
        var rng = SystemRandomNumberGenerator()
        func sendIndication(to target: TransportAddress) -> [UInt8] {
            var m = STUNMessage(method: .send, messageClass: .indication, transactionID: STUNMessage.randomTransactionID(using: &rng))
            m.attributes = [m.xorAddress(.xorPeerAddress, target), STUNAttribute(.data, [1, 2, 3])]
            return m.encoded()
        }
        // No permission yet: nothing leaves, nothing comes in.
        #expect(core.handleClientDatagram(sendIndication(to: peer), from: client, now: 1).isEmpty)
        #expect(core.handlePeerDatagram([9], from: peer, to: relayed, now: 1).isEmpty)
        #expect(
            try response(core.handleClientDatagram(request(.createPermission, peerAddress: peer), from: client, now: 1)).messageClass
                == .success)
        #expect(
            core.handleClientDatagram(sendIndication(to: peer), from: client, now: 2) == [
                .sendToPeer(relayedAddress: relayed, peer: peer, [1, 2, 3])
            ])
        let inbound = core.handlePeerDatagram([9, 8], from: peer, to: relayed, now: 2)
        let data = try response(inbound)
        #expect(data.method == .data && data.first(.data) == [9, 8])
        #expect(try data.address(.xorPeerAddress) == peer)
        // Someone else is still shut out, and a different client cannot use this allocation.
        #expect(core.handlePeerDatagram([9], from: stranger, to: relayed, now: 2).isEmpty)
        #expect(core.handleClientDatagram(sendIndication(to: peer), from: stranger, now: 2).isEmpty)
        // Permissions lapse after 300 s unless refreshed.
        #expect(core.handlePeerDatagram([9], from: peer, to: relayed, now: 302).isEmpty)
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash)) func channelsCarryDataBothWays() throws {
        var core = try allocated()
        #expect(
            try response(
                core.handleClientDatagram(request(.channelBind, [.channelNumber(0x4001)], peerAddress: peer), from: client, now: 1)
            ).messageClass == .success)
        #expect(
            core.handleClientDatagram(ChannelData(channel: 0x4001, payload: [7]).encoded, from: client, now: 2)
                == [.sendToPeer(relayedAddress: relayed, peer: peer, [7])])
        #expect(
            core.handlePeerDatagram([5, 5], from: peer, to: relayed, now: 2) == [
                .sendToClient(client, ChannelData(channel: 0x4001, payload: [5, 5]).encoded)
            ])
        // Unbound channel: dropped. Rebinding the channel to another peer: refused.
        #expect(core.handleClientDatagram(ChannelData(channel: 0x4002, payload: [7]).encoded, from: client, now: 2).isEmpty)
        #expect(
            try response(
                core.handleClientDatagram(request(.channelBind, [.channelNumber(0x4001)], peerAddress: stranger), from: client, now: 3)
            ).errorCode?.code == 400)
    }

    /// The routes the media loop's common path asks for (`channelOut`, `channelBack`) say what
    /// `handleClientDatagram` and `handlePeerDatagram` do with ChannelData, and nothing when
    /// the channel is unbound, the peer has no channel, or the binding has lapsed.
    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash)) func channelRoutesAgreeWithTheFullPath() throws {
        var core = try allocated()
        #expect(core.channelOut(from: client, channel: 0x4001, now: 1) == nil)
        #expect(
            try response(
                core.handleClientDatagram(request(.channelBind, [.channelNumber(0x4001)], peerAddress: peer), from: client, now: 1)
            ).messageClass == .success)
        let out = try #require(core.channelOut(from: client, channel: 0x4001, now: 2))
        #expect(out.relayed == relayed && out.peer == peer)
        #expect(
            core.handleClientDatagram(ChannelData(channel: 0x4001, payload: [7]).encoded, from: client, now: 2)
                == [.sendToPeer(relayedAddress: out.relayed, peer: out.peer, [7])])
        let back = try #require(core.channelBack(from: peer, to: relayed, now: 2))
        #expect(back.client == client && back.channel == 0x4001)
        #expect(
            core.handlePeerDatagram([5], from: peer, to: relayed, now: 2)
                == [.sendToClient(back.client, ChannelData(channel: back.channel, payload: [5]).encoded)])
        #expect(core.channelOut(from: client, channel: 0x4002, now: 2) == nil)
        #expect(core.channelOut(from: stranger, channel: 0x4001, now: 2) == nil)
        // A peer with a permission (its IP's) but no channel: no route back; the full path
        // sends a Data indication instead.
        let unchanneled = TransportAddress(ip: peer.ip, port: peer.port &+ 1)
        #expect(core.channelBack(from: unchanneled, to: relayed, now: 2) == nil)
        #expect(try response(core.handlePeerDatagram([5], from: unchanneled, to: relayed, now: 2)).method == .data)
        // The allocation refreshed to outlive the binding: past the binding's 600 s (§12), neither
        // route, and the full path drops ChannelData too.
        _ = core.handleClientDatagram(request(.refresh, [.uint32(.lifetime, 900)]), from: client, now: 500)
        #expect(core.channelOut(from: client, channel: 0x4001, now: 650) == nil)
        #expect(core.channelBack(from: peer, to: relayed, now: 650) == nil)
        #expect(core.handleClientDatagram(ChannelData(channel: 0x4001, payload: [7]).encoded, from: client, now: 650).isEmpty)
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash)) func refreshExtendsAndZeroLifetimeDeletes() throws {
        var core = try allocated()
        #expect(
            try response(core.handleClientDatagram(request(.refresh, [.uint32(.lifetime, 900)]), from: client, now: 500)).uint32(.lifetime)
                == 900)
        #expect(core.expire(now: 1300).isEmpty)  // 500 + 900 > 1300
        let deleted = core.handleClientDatagram(request(.refresh, [.uint32(.lifetime, 0)]), from: client, now: 600)
        #expect(deleted.contains(.closeRelaySocket(relayed)))
        #expect(core.allocationCount == 0)
    }

    /// Credentials expire at t = 1000 here. Before then the allocation is refreshed; after,
    /// its credential neither refreshes it nor gets it channels, nor makes a new allocation.
    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash)) func anExpiredCredentialNeitherKeepsNorMakesAllocations() throws {
        var core = try allocated()
        let refreshed = try response(core.handleClientDatagram(request(.refresh, [.uint32(.lifetime, 600)]), from: client, now: 550))
        #expect(refreshed.messageClass == .success)
        let late = try response(core.handleClientDatagram(request(.refresh, [.uint32(.lifetime, 600)]), from: client, now: 1100))
        #expect(late.errorCode?.code == 401)
        #expect(
            try response(
                core.handleClientDatagram(request(.channelBind, [.channelNumber(0x4001)], peerAddress: peer), from: client, now: 1100)
            ).errorCode?.code == 401)
        let other = TransportAddress(ipv4: "10.0.0.3", port: 50000)!
        let refused = try response(core.handleClientDatagram(request(.allocate, [.requestedTransportUDP]), from: other, now: 1100))
        #expect(refused.errorCode?.code == 401)
        // Nor does the expired credential adopt someone else's allocation.
        #expect(try response(core.handleClientDatagram(request(.refresh), from: other, now: 1100)).errorCode?.code == 401)
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash)) func allocationsExpire() throws {
        var core = try allocated()
        #expect(core.expire(now: 599).isEmpty)
        #expect(core.expire(now: 600) == [.closeRelaySocket(relayed)])
        #expect(core.handlePeerDatagram([1], from: peer, to: relayed, now: 601).isEmpty)
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash)) func failedSocketGivesInsufficientCapacity() throws {
        var core = makeCore()
        guard
            case let .bindRelaySocket(pending)? = core.handleClientDatagram(
                request(.allocate, [.requestedTransportUDP]), from: client, now: 0
            ).first
        else {
            Issue.record("no bind")
            return
        }
        #expect(try response(core.allocationFailed(pending, now: 0)).errorCode?.code == 508)
        #expect(core.allocationCount == 0)
    }

    @Test func garbageIsDroppedSilently() {
        var core = makeCore()
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = core.handleClientDatagram(bytes, from: client, now: 0)
            _ = core.handlePeerDatagram(bytes, from: peer, to: relayed, now: 0)
        }
        #expect(core.allocationCount == 0)
    }
}
