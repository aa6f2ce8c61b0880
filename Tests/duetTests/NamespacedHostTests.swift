import Foundation
import NetworkLab
import Testing

/// Calls between hosts that are not this machine's loopback (docs/networking.md "Tested topologies"): the real `duet`
/// binary in network namespaces joined by a switch, homes behind NAT routers made with
/// nftables, a server on the public segment or behind a 1:1 NAT. Documentation addresses only:
/// the public segment is 203.0.113.0/24, homes are 192.0.2.0/25, 198.51.100.0/25 and
/// 198.51.100.128/25, a cloud server's inside is 192.0.2.128/25. Every namespace is removed at
/// the end of each test, failed or not (`NetworkLab.tearDown`, and its deinit).
@Suite(
    "Calls across namespaced hosts", .serialized, .enabled(if: NetworkLab.unavailableReason == nil, "\(NetworkLab.unavailableReason ?? "")")
)
struct NamespacedHostTests {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-netns-\(UUID().uuidString)")

    /// The public segment and the hosts on it; homes are added per test.
    struct World {
        let lab: NetworkLab
        let internet: NetworkLab.Segment
        /// Where devices reach signaling ("203.0.113.10:7400", or the 1:1 NAT's public address).
        let signaling: String
        let serverHost: NetworkLab.Host
        let server: ServerProcess

        /// A device behind its own NAT router (`nat` nil: straight on the public segment);
        /// `blockUDP`: the router lets no UDP through, as some corporate and hotel networks do.
        /// `outside`: the segment the router's outside is on (the internet unless given).
        func device(
            _ name: String, nat: NetworkLab.NATKind?, home index: Int, blockUDP: Bool = false, outside: NetworkLab.Segment? = nil
        ) throws -> NetworkLab.Host {
            try deviceAtHome(name, nat: nat, home: index, blockUDP: blockUDP, outside: outside).host
        }

        /// As `device`, with the home's router (nil on the public segment), to impair later.
        func deviceAtHome(
            _ name: String, nat: NetworkLab.NATKind?, home index: Int, blockUDP: Bool = false, outside: NetworkLab.Segment? = nil
        ) throws -> (host: NetworkLab.Host, router: NetworkLab.Host?) {
            let homes = [
                ("192.0.2.1/25", "192.0.2.10/25"), ("198.51.100.1/25", "198.51.100.10/25"),
                ("198.51.100.129/25", "198.51.100.130/25")
            ]
            guard let nat else { return (try lab.host(name, on: internet, address: "203.0.113.\(40 + index)/24"), nil) }
            let lan = try lab.segment()
            let (gateway, address) = homes[index]
            let router = try lab.natRouter(
                "\(name)-router", kind: nat, outside: outside ?? internet, outsideAddress: "203.0.113.\(21 + index)/24",
                inside: lan, insideAddress: gateway)
            if blockUDP { try lab.dropUDP(through: router) }
            return (try lab.host(name, on: lan, address: address, gateway: String(gateway.split(separator: "/")[0])), router)
        }

        /// `host` leaves its home network for a hotspot: another cone NAT, another public address
        /// (203.0.113.23); its first interface goes down, a second comes up.
        func moveToHotspot(_ host: NetworkLab.Host) throws {
            let hotspot = try lab.segment()
            _ = try lab.natRouter(
                "hotspot", kind: .cone, outside: internet, outsideAddress: "203.0.113.23/24", inside: hotspot,
                insideAddress: "198.51.100.129/25")
            try lab.addInterface("eth1", to: host, on: hotspot, address: "198.51.100.140/25")
            try lab.run(["ip", "link", "set", "eth0", "down"], in: host)
            try lab.run(["ip", "route", "replace", "default", "via", "198.51.100.129"], in: host)
        }
    }

    /// A lab with a `duet server` listening on every interface: on the public segment at
    /// 203.0.113.10, or (`behindNAT`) at 192.0.2.130 behind a 1:1 NAT whose public address
    /// 203.0.113.30 it is told with `--public-address`.
    func world(serverBehindNAT: Bool = false) throws -> World {
        let lab = try NetworkLab()
        let internet = try lab.segment()
        let host: NetworkLab.Host
        var arguments: [String] = []
        let signaling: String
        if serverBehindNAT {
            let inside = try lab.segment()
            _ = try lab.oneToOneNAT(
                "cloud-nat", outside: internet, publicAddress: "203.0.113.30/24", inside: inside,
                insideAddress: "192.0.2.129/25", insideHost: "192.0.2.130")
            host = try lab.host("server", on: inside, address: "192.0.2.130/25", gateway: "192.0.2.129")
            arguments = ["--public-address", "203.0.113.30"]
            signaling = "203.0.113.30:7400"
        } else {
            host = try lab.host("server", on: internet, address: "203.0.113.10/24")
            signaling = "203.0.113.10:7400"
        }
        let server = try ServerProcess(
            dataDirectory: home.appendingPathComponent("server"), listen: "0.0.0.0:7400", media: "0.0.0.0:7401",
            extraArguments: arguments, namespace: host.namespace)
        return World(lab: lab, internet: internet, signaling: signaling, serverHost: host, server: server)
    }

    /// Registers `number` as profile `profile` from `host`.
    func register(_ profile: String, _ number: String, on host: NetworkLab.Host, world: World) throws {
        let duet = DuetCommandLine(home: home, namespace: host.namespace)
        let result = try duet.run(["register", number, "--profile", profile, "--server", world.signaling, "--name", profile.capitalized])
        #expect(result.status == 0, "register \(profile): \(result.stdout)\(result.stderr)")
    }

    /// Alice and Bob, each behind a cone NAT and registered; Bob waits with `answer --auto`
    /// (and `answering`'s flags).
    /// `bobOutside`: the segment Bob's router is on (the internet unless given).
    func aliceAndWaitingBob(_ world: World, answering flags: [String] = [], bobOutside: NetworkLab.Segment? = nil) async throws -> (
        alice: NetworkLab.Host, answering: DuetChild
    ) {
        let alice = try world.device("alice", nat: .cone, home: 0)
        let bob = try world.device("bob", nat: .cone, home: 1, outside: bobOutside)
        try register("alice", "+15557001", on: alice, world: world)
        try register("bob", "+15557002", on: bob, world: world)
        let answering = try DuetChild(["answer", "--auto"] + flags + ["--profile", "bob"], home: home, namespace: bob.namespace)
        #expect(await answering.waitForLine(containing: "waiting for a call"), "bob: \(answering.text)")
        return (alice, answering)
    }

    /// Alice calls Bob from `alice` to `bob` for a few seconds; both must end cleanly.
    func call(from alice: NetworkLab.Host, to bob: NetworkLab.Host, world: World, relay: Bool = false, video: Bool = false) async throws
        -> (
            caller: DuetChild, callee: DuetChild
        )
    {
        try register("alice", "+15557001", on: alice, world: world)
        try register("bob", "+15557002", on: bob, world: world)
        let camera = video ? ["--video"] : []
        let answering = try DuetChild(["answer", "--auto", "--profile", "bob"] + camera, home: home, namespace: bob.namespace)
        #expect(await answering.waitForLine(containing: "waiting for a call"), "bob: \(answering.text)")
        let calling = try DuetChild(
            ["call", "+15557002", "--profile", "alice", "--duration", Sanitizer.callDuration(seconds: 4)] + (relay ? ["--relay"] : [])
                + camera,
            home: home, namespace: alice.namespace)
        #expect(await calling.waitForExit() == 0, "alice: \(calling.text)")
        #expect(await answering.waitForExit() == 0, "bob: \(answering.text)")
        return (calling, answering)
    }

    @Test func twoDevicesBehindTwoConeNATsTalkPeerToPeer() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let alice = try world.device("alice", nat: .cone, home: 0)
        let bob = try world.device("bob", nat: .cone, home: 1)
        let (calling, answering) = try await call(from: alice, to: bob, world: world)

        #expect(calling.lines.contains("state connected (p2p)"), "alice: \(calling.text)")
        #expect(answering.lines.contains("state connected (p2p)"), "bob: \(answering.text)")
        // Through the NATs: each reached the other's router, not an address in the other's home.
        #expect(calling.lines.contains { $0.hasPrefix("path p2p 203.0.113.22:") }, "alice: \(calling.text)")
        #expect(answering.lines.contains { $0.hasPrefix("path p2p 203.0.113.21:") }, "bob: \(answering.text)")
        #expect(calling.lines.contains { $0.hasPrefix("hearing +15557002") }, "alice: \(calling.text)")
        #expect(answering.lines.contains { $0.hasPrefix("hearing +15557001") }, "bob: \(answering.text)")
    }

    /// Bob keeps no socket ready (`--no-spare-socket`) and answers at once: his answer leaves
    /// with his home address only, his NAT's mapping follows in a sealed `candidates` signal,
    /// and the call still goes straight through both NATs (without it: through the relay).
    /// Bob's router is 100 ms from the internet: his mapping takes a round trip to learn, his
    /// answer one way, so the answer always leaves first (on a fast link the Binding answer
    /// could come back before the answer was sealed, and nothing would be left to trickle).
    @Test func aMappingLearnedAfterTheAnswerIsTrickled() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let bobSide = try world.lab.segment()
        let line = try world.lab.delayLine("bob-line", between: bobSide, and: world.internet, oneWay: .milliseconds(100))
        defer { line.stop() }
        let (alice, answering) = try await aliceAndWaitingBob(world, answering: ["--no-spare-socket"], bobOutside: bobSide)
        let calling = try DuetChild(
            ["call", "+15557002", "--profile", "alice", "--duration", Sanitizer.callDuration(seconds: 3)], home: home,
            namespace: alice.namespace)
        #expect(await calling.waitForExit() == 0, "alice: \(calling.timeline)")
        #expect(await answering.waitForExit() == 0, "bob: \(answering.timeline)")
        #expect(answering.lines.contains { $0.hasPrefix("candidate trickled srflx 203.0.113.22:") }, "bob: \(answering.timeline)")
        #expect(calling.lines.contains { $0.hasPrefix("candidate received srflx 203.0.113.22:") }, "alice: \(calling.timeline)")
        #expect(calling.lines.contains("state connected (p2p)"), "alice: \(calling.timeline)")
        #expect(answering.lines.contains("state connected (p2p)"), "bob: \(answering.timeline)")
    }

    /// With video both ways: the pictures cross the relay too, each side seeing the other.
    @Test func aSymmetricNATOnOneSideGoesThroughTheRelay() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let alice = try world.device("alice", nat: .symmetric, home: 0)
        let bob = try world.device("bob", nat: .cone, home: 1)
        let (calling, answering) = try await call(from: alice, to: bob, world: world, video: true)

        #expect(calling.lines.contains("state connected (relay (udp))"), "alice: \(calling.text)")
        #expect(answering.lines.contains("state connected (relay (udp))"), "bob: \(answering.text)")
        // The relayed addresses are the server's: the relay bound every interface and named
        // the one each Allocate arrived at, never 0.0.0.0.
        #expect(calling.lines.contains { $0.hasPrefix("path relay (udp) 203.0.113.10:") }, "alice: \(calling.text)")
        #expect(calling.lines.contains { $0.hasPrefix("hearing +15557002") }, "alice: \(calling.text)")
        #expect(answering.lines.contains { $0.hasPrefix("hearing +15557001") }, "bob: \(answering.text)")
        func sees(_ child: DuetChild, _ number: String) -> Bool {
            child.lines.contains { $0.hasPrefix("seeing \(number) ") && $0.contains(" 160x120 ") && $0.contains("freezes 0") }
        }
        #expect(sees(calling, "+15557002"), "alice: \(calling.text)")
        #expect(sees(answering, "+15557001"), "bob: \(answering.text)")
    }

    /// Video peer to peer across two cone NATs (docs/video.md): at the camera's rate with no
    /// freeze while the network is clean; while Bob's router drops 5 % of the datagrams each
    /// way the pictures keep coming (NACK resends and PLI keyframes: `VideoStreamTests` shows
    /// each); within a second of the loss ending both see the full rate again.
    @Test func aVideoCallKeepsItsFrameRateAndRecoversFromLoss() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let alice = try world.device("alice", nat: .cone, home: 0)
        let (bob, bobRouter) = try world.deviceAtHome("bob", nat: .cone, home: 1)
        try register("alice", "+15557001", on: alice, world: world)
        try register("bob", "+15557002", on: bob, world: world)
        let answering = try DuetChild(["answer", "--auto", "--video", "--profile", "bob"], home: home, namespace: bob.namespace)
        #expect(await answering.waitForLine(containing: "waiting for a call"), "bob: \(answering.text)")
        let calling = try DuetChild(
            ["call", "+15557002", "--profile", "alice", "--video", "--duration", Sanitizer.callDuration(seconds: 10)], home: home,
            namespace: alice.namespace)
        func seeing(_ child: DuetChild) -> [String] { child.lines.filter { $0.hasPrefix("seeing +1555700") } }
        let fps = Self.fps
        // Three full seconds clean (the first report covers the call's first, partial second).
        #expect(await calling.waitUntil { seeing($0).count >= 4 }, "alice: \(calling.text)")
        let clean = (seeing(calling).dropFirst(), seeing(answering).dropFirst())
        try world.lab.loseUDP(percent: 5, through: #require(bobRouter))
        let lossFrom = (seeing(calling).count, seeing(answering).count)
        try await Task.sleep(for: .seconds(3))
        try world.lab.run(["nft", "delete", "table", "inet", "loss"], in: #require(bobRouter))
        let lossTo = (seeing(calling).count, seeing(answering).count)
        #expect(await calling.waitForExit() == 0, "alice: \(calling.text)")
        #expect(await answering.waitForExit() == 0, "bob: \(answering.text)")

        for (name, lines) in [("alice", clean.0), ("bob", clean.1)] {
            #expect(!lines.isEmpty && lines.allSatisfy { fps($0) >= 14 && $0.contains("freezes 0") }, "\(name), clean: \(lines)")
        }
        for (name, child, from, to) in [("alice", calling, lossFrom.0, lossTo.0), ("bob", answering, lossFrom.1, lossTo.1)] {
            let all = seeing(child)
            let during = all[min(from, all.count)..<min(to, all.count)]
            #expect(during.count >= 2 && during.allSatisfy { fps($0) >= 10 }, "\(name), 5 % loss: \(during)")
            // The second report after the loss ends covers a whole second after it.
            let after = all.dropFirst(to + 1).prefix(1)
            #expect(after.count == 1 && after.allSatisfy { fps($0) >= 14 }, "\(name), after the loss: \(all)")
        }
    }

    /// A network that lets no UDP out: checks, the STUN Binding and UDP to the relay all fail,
    /// and the device reaches the relay over TCP on the media port's number.
    @Test func aDeviceWhoseNetworkDropsUDPIsRelayedOverTCP() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let alice = try world.device("alice", nat: .cone, home: 0, blockUDP: true)
        let bob = try world.device("bob", nat: .cone, home: 1)
        let (calling, answering) = try await call(from: alice, to: bob, world: world)

        #expect(calling.lines.contains("state connected (relay (tcp))"), "alice: \(calling.text)")
        #expect(answering.lines.contains("state connected (relay (udp))"), "bob: \(answering.text)")
        #expect(calling.lines.contains { $0.hasPrefix("hearing +15557002") }, "alice: \(calling.text)")
        #expect(answering.lines.contains { $0.hasPrefix("hearing +15557001") }, "bob: \(answering.text)")
    }

    /// A laptop leaves one network for another mid-call: its first interface goes down, a
    /// second on another network behind another NAT comes up. The call restarts ICE over sealed
    /// signaling (no new keys), both sides hear each other again, and the gap is printed.
    @Test func aCallSurvivesADeviceMovingToAnotherNetwork() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let (alice, answering) = try await aliceAndWaitingBob(world)
        let calling = try DuetChild(
            ["call", "+15557002", "--profile", "alice", "--duration", "16s"], home: home, namespace: alice.namespace)
        #expect(await calling.waitForLine(containing: "hearing +15557002"), "alice: \(calling.text)")
        #expect(await answering.waitForLine(containing: "hearing +15557001"), "bob: \(answering.text)")

        try world.moveToHotspot(alice)

        #expect(await calling.waitForLine(containing: "network changed — reconnecting media"), "alice: \(calling.timeline)")
        #expect(await answering.waitForLine(containing: "path p2p 203.0.113.23:"), "bob: \(answering.timeline)\nalice: \(calling.timeline)")
        #expect(await calling.waitForLine(containing: "media back after"), "alice: \(calling.text)")
        let moved = calling.lines.firstIndex { $0.contains("reconnecting media") } ?? calling.lines.count
        #expect(
            await eventually(timeout: .seconds(10)) { calling.lines.dropFirst(moved).contains { $0.hasPrefix("hearing +15557002") } },
            "alice does not hear bob after moving: \(calling.text)")
        let bobMoved = answering.lines.firstIndex { $0.contains("path p2p 203.0.113.23:") } ?? answering.lines.count
        #expect(
            await eventually(timeout: .seconds(10)) { answering.lines.dropFirst(bobMoved).contains { $0.hasPrefix("hearing +15557001") } },
            "bob does not hear alice after she moved: \(answering.text)")
        #expect(await calling.waitForExit() == 0, "alice: \(calling.text)")
        #expect(await answering.waitForExit() == 0, "bob: \(answering.text)")
        // The gap each side heard, for the log (a figure, not a target: `make bench` has none yet).
        for line in (calling.lines + answering.lines) where line.contains("media back after") { print("network change: \(line)") }
    }

    /// Alice's home router gets another outside address mid-call (a NAT rebinding; her own
    /// addresses stay): the direct path goes silent, the call restarts its checks and finds
    /// the new mapping; both hear again.
    @Test func aCallSurvivesANATRebinding() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let (alice, answering) = try await aliceAndWaitingBob(world)
        let calling = try DuetChild(
            ["call", "+15557002", "--profile", "alice", "--duration", "16s"], home: home, namespace: alice.namespace)
        #expect(await calling.waitForLine(containing: "hearing +15557002"), "alice: \(calling.text)")

        try world.lab.renumberRouter("alice-router", outside: "203.0.113.24/24")

        #expect(await answering.waitForLine(containing: "path p2p 203.0.113.24:"), "bob: \(answering.timeline)\nalice: \(calling.timeline)")
        let heard = calling.lines.count
        #expect(
            await eventually(timeout: .seconds(10)) { calling.lines.dropFirst(heard).contains { $0.hasPrefix("hearing +15557002") } },
            "alice does not hear bob after her NAT rebound: \(calling.text)")
        let bobMoved = answering.lines.firstIndex { $0.contains("path p2p 203.0.113.24:") } ?? answering.lines.count
        #expect(
            await eventually(timeout: .seconds(10)) { answering.lines.dropFirst(bobMoved).contains { $0.hasPrefix("hearing +15557001") } },
            "bob does not hear alice after her NAT rebound: \(answering.text)")
        #expect(await calling.waitForExit() == 0, "alice: \(calling.text)")
        #expect(await answering.waitForExit() == 0, "bob: \(answering.text)")
        for line in (calling.lines + answering.lines) where line.contains("media back after") { print("NAT rebinding: \(line)") }
    }

    /// The same move on a relayed call (`--relay`): the allocation belonged to the old address,
    /// so the device allocates again from the new one and tells the other its new relayed
    /// address, sealed; both hear each other again through the relay, with the same keys.
    @Test func aRelayedCallSurvivesADeviceMovingToAnotherNetwork() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let (alice, answering) = try await aliceAndWaitingBob(world)
        let calling = try DuetChild(
            ["call", "+15557002", "--profile", "alice", "--relay", "--duration", "16s"], home: home, namespace: alice.namespace)
        #expect(await calling.waitForLine(containing: "hearing +15557002"), "alice: \(calling.text)")
        #expect(await answering.waitForLine(containing: "hearing +15557001"), "bob: \(answering.text)")
        let relayedBefore = calling.lines.first { $0.hasPrefix("path relay (udp) ") }

        try world.moveToHotspot(alice)

        #expect(await calling.waitForLine(containing: "network changed — reconnecting media"), "alice: \(calling.timeline)")
        #expect(await calling.waitForLine(containing: "media back after"), "alice: \(calling.timeline)\nbob: \(answering.timeline)")
        let moved = calling.lines.firstIndex { $0.contains("reconnecting media") } ?? calling.lines.count
        #expect(
            await eventually(timeout: .seconds(10)) { calling.lines.dropFirst(moved).contains { $0.hasPrefix("hearing +15557002") } },
            "alice does not hear bob after moving: \(calling.text)")
        let heardBefore = answering.lines.count
        #expect(
            await eventually(timeout: .seconds(10)) {
                answering.lines.dropFirst(heardBefore).contains { $0.hasPrefix("hearing +15557001") }
            },
            "bob does not hear alice after she moved: \(answering.text)")
        #expect(relayedBefore != nil, "alice: \(calling.text)")
        #expect(await calling.waitForExit() == 0, "alice: \(calling.text)")
        #expect(await answering.waitForExit() == 0, "bob: \(answering.text)")
        for line in calling.lines where line.contains("media back after") { print("relayed network change: \(line)") }
    }

    /// coturn on the public segment (203.0.113.50) in front instead of Duet's relay: Alice's
    /// network drops UDP, so her checks fail and she reaches coturn over TCP
    /// (`turn:…?transport=tcp`); Bob reaches it over UDP. Both hear each other through it.
    @Test func aCallRelayedAcrossHostsByCoturnOverTCP() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/turnserver") else {
            print("skipped: coturn's turnserver is not installed (make deps installs it)")
            return
        }
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let relayHost = try world.lab.host("coturn", on: world.internet, address: "203.0.113.50/24")
        let directory = home.appendingPathComponent("coturn")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let coturn = Process()
        let command = NetworkLab.command(
            [
                "/usr/bin/turnserver", "-n", "--listening-ip", "203.0.113.50", "--listening-port", "3478",
                "--relay-ip", "203.0.113.50", "--lt-cred-mech", "--user", "u:p", "--realm", "duet.test",
                "--no-tls", "--no-dtls", "--no-cli", "--fingerprint",
                "--db", directory.appendingPathComponent("turndb.sqlite").path,
                "--pidfile", directory.appendingPathComponent("turnserver.pid").path,
                "--log-file", directory.appendingPathComponent("turn.log").path
            ], in: relayHost.namespace)
        coturn.executableURL = command.executable
        coturn.arguments = command.arguments
        coturn.standardOutput = FileHandle.nullDevice
        coturn.standardError = FileHandle.nullDevice
        try coturn.run()
        defer { if coturn.isRunning { kill(coturn.processIdentifier, SIGKILL) } }
        #expect(
            await eventually(timeout: .seconds(10)) {
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("turnserver.pid").path)
            })
        let alice = try world.device("alice", nat: .cone, home: 0, blockUDP: true)
        let bob = try world.device("bob", nat: .cone, home: 1)
        try register("alice", "+15557001", on: alice, world: world)
        try register("bob", "+15557002", on: bob, world: world)
        let turn = ["--turn-user", "u", "--turn-pass", "p", "--turn"]
        let answering = try DuetChild(
            ["answer", "--auto", "--profile", "bob"] + turn + ["turn:203.0.113.50:3478"], home: home, namespace: bob.namespace)
        #expect(await answering.waitForLine(containing: "waiting for a call"), "bob: \(answering.text)")
        let calling = try DuetChild(
            ["call", "+15557002", "--profile", "alice", "--duration", Sanitizer.callDuration(seconds: 4)]
                + turn + ["turn:203.0.113.50:3478?transport=tcp"], home: home, namespace: alice.namespace)
        #expect(await calling.waitForExit() == 0, "alice: \(calling.text)")
        #expect(await answering.waitForExit() == 0, "bob: \(answering.text)")
        #expect(calling.lines.contains("state connected (relay (tcp))"), "alice: \(calling.text)")
        #expect(answering.lines.contains("state connected (relay (udp))"), "bob: \(answering.text)")
        #expect(calling.lines.contains { $0.hasPrefix("path relay (tcp) 203.0.113.50:") }, "alice: \(calling.text)")
        #expect(calling.lines.contains { $0.hasPrefix("hearing +15557002") }, "alice: \(calling.text)")
        #expect(answering.lines.contains { $0.hasPrefix("hearing +15557001") }, "bob: \(answering.text)")
    }

    /// A cloud server: bound to every interface on its private address, reached at the 1:1
    /// NAT's public one, which `--public-address` names for the relay.
    @Test func aServerBehindAOneToOneNATRelaysAtItsPublicAddress() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world(serverBehindNAT: true)
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        #expect(world.server.banner.contains("advertised   203.0.113.30:7401"), "\(world.server.banner)")
        let alice = try world.device("alice", nat: .cone, home: 0)
        let bob = try world.device("bob", nat: .cone, home: 1)
        let (calling, answering) = try await call(from: alice, to: bob, world: world, relay: true)

        #expect(calling.lines.contains("state connected (relay (udp))"), "alice: \(calling.text)")
        #expect(answering.lines.contains("state connected (relay (udp))"), "bob: \(answering.text)")
        #expect(calling.lines.contains { $0.hasPrefix("path relay (udp) 203.0.113.30:") }, "alice: \(calling.text)")
        #expect(calling.lines.contains { $0.hasPrefix("hearing +15557002") }, "alice: \(calling.text)")
        #expect(answering.lines.contains { $0.hasPrefix("hearing +15557001") }, "bob: \(answering.text)")
    }

    /// Members behind a cone NAT, a symmetric NAT and none, with the server behind a 1:1 NAT:
    /// every leg reaches the SFU at the public address, and everyone hears everyone.
    @Test func aGroupCallWithMembersBehindDifferentNATs() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world(serverBehindNAT: true)
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let members = [
            ("ann", "+15557101", try world.device("ann", nat: .cone, home: 0)),
            ("ben", "+15557102", try world.device("ben", nat: .symmetric, home: 1)),
            ("cat", "+15557103", try world.device("cat", nat: .cone, home: 2, blockUDP: true))
        ]
        for (profile, number, host) in members { try register(profile, number, on: host, world: world) }
        let created = try DuetCommandLine(home: home, namespace: members[0].2.namespace)
            .run(["group", "create", "Team", "+15557102", "+15557103", "--profile", "ann"])
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")

        var answering: [DuetChild] = []
        for (profile, _, host) in members.dropFirst() {
            let child = try DuetChild(
                ["answer", "--auto", "--duration", "14s", "--profile", profile], home: home, namespace: host.namespace)
            #expect(await child.waitForLine(containing: "waiting for a call"), "\(profile): \(child.text)")
            answering.append(child)
        }
        let calling = try DuetChild(
            ["call", "Team", "--duration", "12s", "--profile", "ann"], home: home, namespace: members[0].2.namespace)
        let everyone = members.map(\.1)
        for (child, number) in zip([calling] + answering, everyone) {
            let others = everyone.filter { $0 != number }
            #expect(
                await eventually(timeout: .seconds(40)) { GroupCallCommandTests.hearsEveryone(child, others) }, "\(number): \(child.text)")
        }
        #expect(await calling.waitForExit() == 0, "ann: \(calling.text)")
        for child in answering { _ = await child.waitForExit() }
        // Cat's network drops UDP: its leg reached the SFU through the relay over TCP.
        #expect(answering[1].lines.contains { $0.contains("leg to the SFU up over relay (tcp)") }, "cat: \(answering[1].text)")
        #expect(calling.lines.contains { $0.contains("leg to the SFU up over udp") }, "ann: \(calling.text)")
    }

    /// A group call's member moves to another network mid-call: its leg's route is lost, a
    /// successor leg on a new socket shakes hands with the SFU again (same certificate, same
    /// keys for the room), and both hear each other again; the gap is printed.
    @Test func aGroupCallMemberMovingToAnotherNetworkIsHeardAgain() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let ann = try world.device("ann", nat: .cone, home: 0)
        let ben = try world.device("ben", nat: .cone, home: 1)
        try register("ann", "+15557301", on: ann, world: world)
        try register("ben", "+15557302", on: ben, world: world)
        let created = try DuetCommandLine(home: home, namespace: ann.namespace).run([
            "group", "create", "Pair", "+15557302", "--profile", "ann"
        ])
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")
        let answering = try DuetChild(["answer", "--auto", "--duration", "16s", "--profile", "ben"], home: home, namespace: ben.namespace)
        #expect(await answering.waitForLine(containing: "waiting for a call"), "ben: \(answering.text)")
        let calling = try DuetChild(["call", "Pair", "--duration", "14s", "--profile", "ann"], home: home, namespace: ann.namespace)
        #expect(
            await eventually(timeout: .seconds(30)) { GroupCallCommandTests.hearsEveryone(calling, ["+15557302"]) }, "ann: \(calling.text)")

        try world.moveToHotspot(ann)

        #expect(await calling.waitForLine(containing: "network changed — reconnecting media"), "ann: \(calling.text)")
        #expect(await calling.waitForLine(containing: "media: back after"), "ann: \(calling.text)")
        let moved = calling.lines.firstIndex { $0.contains("reconnecting media") } ?? calling.lines.count
        #expect(calling.lines.dropFirst(moved).contains { $0.contains("leg to the SFU up over udp") }, "ann: \(calling.text)")
        #expect(
            await eventually(timeout: .seconds(10)) {
                calling.lines.dropFirst(moved).contains { $0.hasPrefix("hearing: ") && $0.contains("+15557302 heard") }
            },
            "ann does not hear ben after moving: \(calling.text)")
        let benLines = answering.lines.count
        #expect(
            await eventually(timeout: .seconds(10)) {
                answering.lines.dropFirst(benLines).contains { $0.hasPrefix("hearing: ") && $0.contains("+15557301 heard") }
            },
            "ben does not hear ann after she moved: \(answering.text)")
        #expect(await calling.waitForExit() == 0, "ann: \(calling.text)")
        _ = await answering.waitForExit()
        for line in calling.lines where line.contains("media: back after") { print("group leg network change: \(line)") }
    }

    /// Ann's home router gets another outside address mid-call (a NAT rebinding: Ann's own
    /// addresses stay as they were). The SFU knows her leg by the old mapping, which is gone;
    /// her leg sees the media port name another address, and is rebuilt — she hears again.
    @Test func aGroupCallMemberWhoseNATRebindsIsHeardAgain() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let ann = try world.device("ann", nat: .cone, home: 0)
        let ben = try world.device("ben", nat: .cone, home: 1)
        try register("ann", "+15557401", on: ann, world: world)
        try register("ben", "+15557402", on: ben, world: world)
        let created = try DuetCommandLine(home: home, namespace: ann.namespace).run([
            "group", "create", "Pair", "+15557402", "--profile", "ann"
        ])
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")
        let answering = try DuetChild(["answer", "--auto", "--duration", "16s", "--profile", "ben"], home: home, namespace: ben.namespace)
        #expect(await answering.waitForLine(containing: "waiting for a call"), "ben: \(answering.text)")
        let calling = try DuetChild(["call", "Pair", "--duration", "14s", "--profile", "ann"], home: home, namespace: ann.namespace)
        #expect(
            await eventually(timeout: .seconds(30)) { GroupCallCommandTests.hearsEveryone(calling, ["+15557402"]) }, "ann: \(calling.text)")

        try world.lab.renumberRouter("ann-router", outside: "203.0.113.24/24")

        #expect(await calling.waitForLine(containing: "moved the leg from 203.0.113.21:"), "ann: \(calling.timeline)")
        let moved = calling.lines.firstIndex { $0.contains("moved the leg from") } ?? calling.lines.count
        #expect(
            await eventually(timeout: .seconds(10)) {
                calling.lines.dropFirst(moved).contains { $0.hasPrefix("hearing: ") && $0.contains("+15557402 heard") }
            },
            "ann does not hear ben after her NAT rebound: \(calling.text)")
        let benLines = answering.lines.count
        #expect(
            await eventually(timeout: .seconds(10)) {
                answering.lines.dropFirst(benLines).contains { $0.hasPrefix("hearing: ") && $0.contains("+15557401 heard") }
            },
            "ben does not hear ann after her NAT rebound: \(answering.text)")
        #expect(await calling.waitForExit() == 0, "ann: \(calling.text)")
        _ = await answering.waitForExit()
        for line in calling.lines where line.contains("media: back after") { print("group leg NAT rebinding: \(line)") }
    }

    /// A meeting whose host and guest sit behind different NATs, on a server bound to every
    /// interface with no public address: each is told the address it reached the server at.
    /// The guest's network drops UDP: its leg goes through the relay over TCP.
    @Test func aMeetingWithAHostAndAGuestBehindDifferentNATs() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let ann = try world.device("ann", nat: .cone, home: 0)
        let guestHost = try world.device("guest", nat: .symmetric, home: 1, blockUDP: true)
        try register("ann", "+15557201", on: ann, world: world)
        let host = try DuetChild(
            ["meeting", "create", "--open", "--duration", "10s", "--name", "Ann", "--profile", "ann"], home: home,
            namespace: ann.namespace)
        #expect(await host.waitForLine(containing: "duet://"), "ann: \(host.text)")
        let link = try #require(
            host.lines.lazy.compactMap { $0.split(separator: " ").first { $0.hasPrefix("duet://") }.map(String.init) }.first)
        #expect(link.hasPrefix("duet://203.0.113.10:7400/"), "\(link)")
        let guest = try DuetChild(
            ["meeting", "join", link, "--name", "Visitor", "--profile", "visitor"], home: home, namespace: guestHost.namespace)
        #expect(
            await eventually(timeout: .seconds(40)) { host.lines.contains { $0.hasPrefix("hearing: ") && $0.contains("Visitor heard") } },
            "ann: \(host.text)")
        #expect(
            await eventually(timeout: .seconds(40)) { guest.lines.contains { $0.hasPrefix("hearing: ") && $0.contains("Ann heard") } },
            "guest: \(guest.text)")
        #expect(guest.lines.contains { $0.contains("leg to the server up over relay (tcp)") }, "guest: \(guest.text)")
        #expect(await host.waitForExit() == 0, "ann: \(host.text)")
        _ = await guest.waitForExit()
    }

    /// The delay line holds each frame for its time both ways: a datagram's round trip across
    /// it takes at least the round trip it was made for (a lower bound only: this is not a
    /// timing target, just that frames are held and all come through).
    @Test func theDelayLineHoldsEveryFrameForItsTime() async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        let near = try lab.segment(), far = try lab.segment()
        let line = try lab.delayLine("delay", between: near, and: far, oneWay: .milliseconds(20))
        defer { line.stop() }
        let a = try lab.host("a", on: near, address: "203.0.113.1/24"), b = try lab.host("b", on: far, address: "203.0.113.2/24")
        let echo = try NetworkLab.inside(b.namespace) { try UDPProbe(port: 9000) }
        let probe = try NetworkLab.inside(a.namespace) { try UDPProbe(port: 0) }
        for round in 0..<5 {
            let start = ContinuousClock.now
            probe.send([UInt8(round)], to: "203.0.113.2", port: 9000)
            guard let (bytes, port) = echo.receive() else {
                Issue.record("round \(round): nothing crossed the line")
                return
            }
            echo.send(bytes, to: "203.0.113.1", port: port)
            #expect(probe.receive()?.bytes == [UInt8(round)], "round \(round): no echo")
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(40), "round trip \(elapsed) is shorter than the line's 40 ms")
        }
    }

    /// A blocking UDP socket (opened inside a namespace by the caller) with a 3 s receive timeout.
    final class UDPProbe {
        let fd: Int32

        init(port: UInt16) throws {
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            var timeout = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
        }

        func send(_ bytes: [UInt8], to host: String, port: UInt16) {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr(host)
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, bytes.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        }

        func receive() -> (bytes: [UInt8], port: UInt16)? {
            var buffer = [UInt8](repeating: 0, count: 1500)
            var source = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &source) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            return count > 0 ? (Array(buffer[0..<count]), UInt16(bigEndian: source.sin_port)) : nil
        }

        deinit { close(fd) }
    }

    /// The lab itself: what a test makes is gone after `tearDown`, a process left inside included.
    @Test func theLabLeavesNothingBehind() throws {
        let lab = try NetworkLab()
        let host = try lab.host("lonely", on: try lab.segment(), address: "203.0.113.99/24")
        let command = NetworkLab.command(["sh", "-c", "echo inside; exec sleep 600"], in: host.namespace)
        let sleeper = Process()
        sleeper.executableURL = command.executable
        sleeper.arguments = command.arguments
        let output = Pipe()
        sleeper.standardOutput = output
        try sleeper.run()
        // Only once it is inside the namespace (`ip netns exec` has switched) is it the lab's to kill.
        _ = output.fileHandleForReading.availableData
        lab.tearDown()
        sleeper.waitUntilExit()
        #expect(sleeper.terminationReason == .uncaughtSignal, "the process inside was not killed")
        let list = NetworkLab.command(["true"], in: host.namespace)
        let probe = Process()
        probe.executableURL = list.executable
        probe.arguments = list.arguments
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        #expect(probe.terminationStatus != 0, "namespace \(host.namespace) still exists")
    }
}
