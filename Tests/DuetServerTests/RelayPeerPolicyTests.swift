import DuetCrypto
import DuetWire
import Testing

@testable import DuetServer

/// The relay is no open proxy: who an allocation may reach (`RelayPeerPolicy`), how many
/// allocations one holder gets, and that none outlives its credential — on the pure
/// `RelayCore`, with credentials from the real `RelayCredentialIssuer`.
@Suite("Relay peer policy and quotas")
struct RelayPeerPolicyTests {
    static let issuer = RelayCredentialIssuer(secret: RelaySecret(key: SecureBytes(randomCount: 32)))
    /// The server: signaling and media ports on a public address.
    static let serverIP: [UInt8] = [203, 0, 113, 5]
    static let signalingPort: UInt16 = 7400
    static let mediaPort: UInt16 = 7401
    static let start = 1_000_000.0

    struct Device {
        let client: TransportAddress
        let credentials: Signaling.RelayCredentials
    }

    static func policy(_ base: RelayPeerPolicy = .standard) -> RelayPeerPolicy {
        var policy = base
        policy.sfu = SFUAddresses(port: mediaPort, ips: [serverIP])
        policy.serverPorts = [signalingPort, mediaPort]
        return policy
    }

    static func device(_ number: String, call: String = "call-1", port: UInt16 = 50000, at now: Double = start) -> Device {
        let relay = HostPort(host: "203.0.113.5", port: Int(mediaPort))
        return Device(
            client: TransportAddress(ip: [198, 51, 100, 20], port: port),
            credentials: issuer.issue(callID: call, number: number, relay: relay, now: now))
    }

    static func request(_ method: STUNMessage.Method, _ device: Device, _ attributes: [STUNAttribute] = [], peer: TransportAddress? = nil)
        -> [UInt8]
    {
        var rng = SystemRandomNumberGenerator()
        var m = STUNMessage(method: method, messageClass: .request, transactionID: STUNMessage.randomTransactionID(using: &rng))
        if let peer { m.attributes.append(m.xorAddress(.xorPeerAddress, peer)) }
        m.attributes += attributes + [.text(.username, device.credentials.username), .text(.realm, "duet"), .text(.nonce, "n1")]
        let integrity = STUNIntegrity.relayLongTermCredential(
            username: device.credentials.username, realm: "duet", password: device.credentials.password)
        return m.encoded(integrity: integrity, fingerprint: true)
    }

    static func answer(_ actions: [RelayAction]) -> STUNMessage? {
        guard case let .sendToClient(_, bytes)? = actions.first else { return nil }
        return try? STUNMessage(parsing: bytes)
    }

    /// Allocates for `device` at relayed port `relayedPort`; the response's error code, or nil on success.
    static func allocate(_ core: inout RelayCore, _ device: Device, relayedPort: UInt16, now: Double = start) -> Int? {
        let actions = core.handleClientDatagram(request(.allocate, device, [.requestedTransportUDP]), from: device.client, now: now)
        guard case let .bindRelaySocket(pending)? = actions.first else { return answer(actions)?.errorCode?.code ?? -1 }
        let done = answer(core.allocationBound(pending, relayedAddress: TransportAddress(ip: serverIP, port: relayedPort), now: now))
        return done?.messageClass == .success ? nil : done?.errorCode?.code ?? -1
    }

    static func core(_ policy: RelayPeerPolicy) -> RelayCore {
        RelayCore(credentials: issuer.coreCredentials, nonce: "n1", policy: Self.policy(policy))
    }

    /// The answer to a CreatePermission for `peer`, and to a ChannelBind for it: success or the error code.
    static func permission(_ core: inout RelayCore, _ device: Device, _ peer: TransportAddress, channel: UInt16) -> [Int] {
        [request(.createPermission, device, peer: peer), request(.channelBind, device, [.channelNumber(channel)], peer: peer)].map {
            let m = answer(core.handleClientDatagram($0, from: device.client, now: start + 1))
            return m?.messageClass == .success ? 200 : m?.errorCode?.code ?? -1
        }
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash))
    func loopbackLinkLocalPrivateAndTheServersOwnPortsAreForbiddenByDefault() throws {
        var core = Self.core(.standard)
        let alice = Self.device("+15550101")
        #expect(Self.allocate(&core, alice, relayedPort: 50001) == nil)
        let forbidden = [
            TransportAddress(ipv4: "127.0.0.1", port: 40000)!, TransportAddress(ip: Self.serverIP, port: Self.signalingPort),
            TransportAddress(ipv4: "169.254.169.254", port: 80)!, TransportAddress(ipv4: "0.0.0.0", port: 9)!,
            TransportAddress(ipv4: "224.0.0.251", port: 5353)!, TransportAddress(ipv4: "255.255.255.255", port: 9)!,
            TransportAddress(ipv4: "10.1.2.3", port: 9)!, TransportAddress(ipv4: "192.168.1.1", port: 53)!,
            TransportAddress(literal: "::1", port: 9)!, TransportAddress(literal: "fe80::1", port: 9)!,
            TransportAddress(literal: "fd00::1", port: 9)!, TransportAddress(literal: "::ffff:127.0.0.1", port: 9)!
        ]
        for (index, peer) in forbidden.enumerated() {
            #expect(Self.permission(&core, alice, peer, channel: 0x4000 + UInt16(index)) == [403, 403], "\(peer)")
        }
        // Public peers, and the media port itself (the SFU, reached inside the server), are allowed.
        #expect(Self.permission(&core, alice, TransportAddress(ipv4: "198.51.100.7", port: 6000)!, channel: 0x4100) == [200, 200])
        #expect(Self.permission(&core, alice, TransportAddress(ip: Self.serverIP, port: Self.mediaPort), channel: 0x4101) == [200, 200])
        // The server's IP is now permitted (for the SFU), yet a Send to its signaling port goes nowhere.
        var rng = SystemRandomNumberGenerator()
        var send = STUNMessage(method: .send, messageClass: .indication, transactionID: STUNMessage.randomTransactionID(using: &rng))
        send.attributes = [
            send.xorAddress(.xorPeerAddress, TransportAddress(ip: Self.serverIP, port: Self.signalingPort)), STUNAttribute(.data, [1])
        ]
        #expect(core.handleClientDatagram(send.encoded(), from: alice.client, now: Self.start + 2).isEmpty)
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash))
    func loopbackAndPrivatePeersAreAllowedOnlyUnderTheOperatorsExplicitPolicy() throws {
        var core = Self.core(.allowingLoopback)
        let alice = Self.device("+15550101")
        #expect(Self.allocate(&core, alice, relayedPort: 50001) == nil)
        #expect(Self.permission(&core, alice, TransportAddress(ipv4: "127.0.0.1", port: 40000)!, channel: 0x4000) == [200, 200])
        #expect(Self.permission(&core, alice, TransportAddress(literal: "::1", port: 40000)!, channel: 0x4001) == [200, 200])
        // The server's own ports stay refused on loopback too, and private ranges need their own option.
        #expect(
            Self.permission(&core, alice, TransportAddress(ipv4: "127.0.0.1", port: Self.signalingPort)!, channel: 0x4002) == [403, 403])
        #expect(Self.permission(&core, alice, TransportAddress(ipv4: "10.1.2.3", port: 9)!, channel: 0x4003) == [403, 403])

        var lan = Self.core(RelayPeerPolicy(allowsPrivate: true))
        #expect(Self.allocate(&lan, alice, relayedPort: 50001) == nil)
        #expect(Self.permission(&lan, alice, TransportAddress(ipv4: "10.1.2.3", port: 9)!, channel: 0x4000) == [200, 200])
        #expect(Self.permission(&lan, alice, TransportAddress(literal: "fd00::1", port: 9)!, channel: 0x4001) == [200, 200])
        #expect(Self.permission(&lan, alice, TransportAddress(ipv4: "127.0.0.1", port: 40000)!, channel: 0x4002) == [403, 403])
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash))
    func anotherAllocationOfThisRelayIsReachableOnTheServersOwnAddress() throws {
        var core = Self.core(.standard)
        let alice = Self.device("+15550101"), bob = Self.device("+15550102", port: 50002)
        #expect(Self.allocate(&core, alice, relayedPort: 50001) == nil)
        #expect(Self.allocate(&core, bob, relayedPort: 50003) == nil)
        #expect(Self.permission(&core, alice, TransportAddress(ip: Self.serverIP, port: 50003), channel: 0x4000) == [200, 200])
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash))
    func aNinthAllocationBySameHolderIsRefusedWhileAnotherHolderStillGetsOne() throws {
        var core = Self.core(.standard)
        for index in 0..<RelayCore.maximumAllocationsPerHolder {
            let device = Self.device("+15550101", call: "call-\(index)", port: UInt16(50000 + index))
            #expect(Self.allocate(&core, device, relayedPort: UInt16(51000 + index)) == nil)
        }
        let ninth = Self.device("+15550101", call: "call-9", port: 50100)
        #expect(Self.allocate(&core, ninth, relayedPort: 51100) == 486)
        #expect(Self.allocate(&core, Self.device("+15550102", port: 50200), relayedPort: 51200) == nil)
        #expect(core.allocationCount == RelayCore.maximumAllocationsPerHolder + 1)
    }

    @Test(.disabled(if: Sanitizer.isThread, RelayCoreTests.tsanCrash))
    func aRefreshCannotExtendAnAllocationPastItsCredentialsExpiry() throws {
        var core = Self.core(.standard)
        let alice = Self.device("+15550101")
        let expiry = Self.start + RelayCredentialIssuer.lifetime
        // Made 100 s before its credential expires, an allocation lives 100 s, not 600.
        #expect(Self.allocate(&core, alice, relayedPort: 50001, now: expiry - 100) == nil)
        #expect(core.allocations[alice.client]?.expiresAt == expiry)
        // Ten seconds before expiry, a Refresh asking for an hour gets ten seconds.
        let late = Self.answer(
            core.handleClientDatagram(Self.request(.refresh, alice, [.uint32(.lifetime, 3600)]), from: alice.client, now: expiry - 10))
        #expect(late?.messageClass == .success && late?.uint32(.lifetime) == 10)
        #expect(core.expire(now: expiry).contains(.closeRelaySocket(TransportAddress(ip: Self.serverIP, port: 50001))))
        // After expiry, a Refresh is refused and keeps nothing alive.
        let after = Self.answer(
            core.handleClientDatagram(Self.request(.refresh, alice, [.uint32(.lifetime, 600)]), from: alice.client, now: expiry + 1))
        #expect(after?.errorCode?.code == 401)
        #expect(core.allocationCount == 0)
    }

    @Test func addressClassesAreJudgedAsDocumented() {
        let standard = RelayPeerPolicy.standard, lan = RelayPeerPolicy(allowsPrivate: true)
        for text in ["198.51.100.1", "203.0.113.9", "192.0.2.1", "8.8.8.8", "172.32.0.1", "100.128.0.1"] {
            #expect(standard.admits(ip: TransportAddress(ipv4: text, port: 1)!), "\(text)")
        }
        for text in [
            "127.0.0.1", "127.9.9.9", "0.0.0.0", "0.1.2.3", "169.254.1.1", "224.0.0.1", "239.255.255.250", "240.0.0.1",
            "255.255.255.255", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "100.64.0.1"
        ] {
            #expect(!standard.admits(ip: TransportAddress(ipv4: text, port: 1)!), "\(text)")
        }
        #expect(standard.admits(ip: TransportAddress(literal: "2001:db8::1", port: 1)!))
        for text in ["::", "::1", "fe80::1", "febf::1", "ff02::1", "fc00::1", "fdff::1"] {
            #expect(!standard.admits(ip: TransportAddress(literal: text, port: 1)!), "\(text)")
        }
        #expect(
            lan.admits(ip: TransportAddress(ipv4: "172.20.1.1", port: 1)!) && lan.admits(ip: TransportAddress(literal: "fd12::1", port: 1)!)
        )
        #expect(
            !lan.admits(ip: TransportAddress(literal: "fe80::1", port: 1)!)
                && !lan.admits(ip: TransportAddress(ipv4: "127.0.0.1", port: 1)!))
    }
}
