import DuetCrypto
import DuetWire
import Testing

@testable import DuetClient

@Suite("Connectivity checks")
struct ConnectivityChecksTests {
    let alice = TransportAddress(ipv4: "192.168.1.10", port: 40000)!
    let bob = TransportAddress(ipv4: "192.168.1.20", port: 41000)!
    let bobUnreachable = TransportAddress(ipv4: "10.99.0.1", port: 41000)!

    /// Runs both sides over a simulated network that delivers only between `alice` and `bob`
    /// (and not what `lose` picks out), until both have selected or `limit` rounds pass.
    func run(
        _ caller: inout ConnectivityChecks, _ callee: inout ConnectivityChecks, limit: Int = 20,
        lose: (_ bytes: [UInt8], _ to: TransportAddress) -> Bool = { _, _ in false }
    )
        -> (caller: TransportAddress?, callee: TransportAddress?)
    {
        var inFlight: [(bytes: [UInt8], from: TransportAddress, to: TransportAddress)] = []
        var picked: (TransportAddress?, TransportAddress?) = (nil, nil)
        func route(_ actions: [ConnectivityChecks.Action], from: TransportAddress, isCaller: Bool) {
            for action in actions {
                switch action {
                case let .send(bytes, to): inFlight.append((bytes, from, to))
                case let .selected(address): if isCaller { picked.0 = address } else { picked.1 = address }
                }
            }
        }
        for round in 0..<limit {
            let now = Double(round) * 0.1
            route(caller.tick(now: now), from: alice, isCaller: true)
            route(callee.tick(now: now), from: bob, isCaller: false)
            let delivering = inFlight
            inFlight = []
            for packet in delivering where !lose(packet.bytes, packet.to) {
                if packet.to == bob { route(callee.receive(packet.bytes, from: packet.from, now: now), from: bob, isCaller: false) }
                if packet.to == alice { route(caller.receive(packet.bytes, from: packet.from, now: now), from: alice, isCaller: true) }
                // Anything else (the unreachable candidate) is lost.
            }
            if picked.0 != nil && picked.1 != nil { break }
        }
        return picked
    }

    @Test func bothSidesSettleOnTheReachablePair() {
        let secret = SecureBytes(randomCount: 32)
        let (c, d) = ConnectivityCredentials.derive(callSecret: secret)
        var caller = ConnectivityChecks(
            role: .controlling, local: c, remote: d,
            remoteCandidates: [Candidate(kind: .host, address: bobUnreachable), Candidate(kind: .serverReflexive, address: bob)])
        var callee = ConnectivityChecks(role: .controlled, local: d, remote: c, remoteCandidates: [Candidate(kind: .host, address: alice)])
        let picked = run(&caller, &callee)
        #expect(picked.caller == bob)
        #expect(picked.callee == alice)
    }

    /// A candidate trickled after the answer: the caller knew only an unreachable address, and
    /// settles on the trickled one; a duplicate, a peer-reflexive claim and anything past the
    /// cap are not added, and nothing is once a pair is selected.
    @Test func aTrickledCandidateIsCheckedAndBoundedLikeTheOthers() {
        let secret = SecureBytes(randomCount: 32)
        let (c, d) = ConnectivityCredentials.derive(callSecret: secret)
        var caller = ConnectivityChecks(
            role: .controlling, local: c, remote: d, remoteCandidates: [Candidate(kind: .host, address: bobUnreachable)])
        var callee = ConnectivityChecks(role: .controlled, local: d, remote: c, remoteCandidates: [Candidate(kind: .host, address: alice)])
        caller.add([
            Candidate(kind: .serverReflexive, address: bob), Candidate(kind: .host, address: bobUnreachable),
            Candidate(kind: .peerReflexive, address: TransportAddress(ipv4: "10.99.0.2", port: 1)!)
        ])
        #expect(caller.remoteCandidates.map(\.address) == [bobUnreachable, bob])
        let many = (1...40).map { Candidate(kind: .host, address: TransportAddress(ipv4: "10.98.0.\($0)", port: 9)!) }
        var crowded = caller
        crowded.add(many)
        #expect(crowded.remoteCandidates.count == ConnectivityChecks.maximumRemoteCandidates)
        let picked = run(&caller, &callee)
        #expect(picked.caller == bob && picked.callee == alice)
        caller.add([Candidate(kind: .host, address: TransportAddress(ipv4: "10.97.0.1", port: 9)!)])
        #expect(caller.remoteCandidates.count == 2)
    }

    /// Found by the impaired-network call test: a nomination lost on the way left the callee
    /// "connecting" for ever while the caller was already connected. It is resent until answered.
    @Test func aLostNominationIsResentUntilTheCalleeSelects() {
        let (c, d) = ConnectivityCredentials.derive(callSecret: SecureBytes(randomCount: 32))
        var caller = ConnectivityChecks(role: .controlling, local: c, remote: d, remoteCandidates: [Candidate(kind: .host, address: bob)])
        var callee = ConnectivityChecks(role: .controlled, local: d, remote: c, remoteCandidates: [Candidate(kind: .host, address: alice)])
        var nominationsLost = 0
        let picked = run(&caller, &callee, limit: 40) { bytes, to in
            guard to == bob, nominationsLost < 3, (try? STUNMessage(parsing: bytes))?.first(.useCandidate) != nil else { return false }
            nominationsLost += 1
            return true
        }
        #expect(nominationsLost == 3)
        #expect(picked.caller == bob)
        #expect(picked.callee == alice, "the callee never selected: the nomination was not resent")
    }

    @Test func checksFromSomeoneWithoutTheCallSecretAreIgnored() {
        let (c, d) = ConnectivityCredentials.derive(callSecret: SecureBytes(randomCount: 32))
        let (mc, md) = ConnectivityCredentials.derive(callSecret: SecureBytes(randomCount: 32))
        // Mallory knows the fragments (they are not secret) but not the keys.
        let forgedCaller = ConnectivityCredentials(fragment: c.fragment, key: mc.key)
        var mallory = ConnectivityChecks(
            role: .controlling, local: forgedCaller, remote: ConnectivityCredentials(fragment: d.fragment, key: md.key),
            remoteCandidates: [Candidate(kind: .host, address: bob)])
        var callee = ConnectivityChecks(role: .controlled, local: d, remote: c, remoteCandidates: [Candidate(kind: .host, address: alice)])
        let picked = run(&mallory, &callee, limit: 10)
        #expect(picked.callee == nil)
        #expect(picked.caller == nil)
    }

    @Test func credentialsAreTheSameOnBothSidesAndDifferPerCall() {
        let secret = SecureBytes(randomCount: 32)
        let copy = secret.withUnsafeBytes { SecureBytes(copying: Array($0)) }
        let a = ConnectivityCredentials.derive(callSecret: secret), b = ConnectivityCredentials.derive(callSecret: copy)
        #expect(a.caller.fragment == b.caller.fragment && a.callee.fragment == b.callee.fragment)
        #expect(a.caller.key.constantTimeEquals(b.caller.key))
        #expect(a.caller.fragment != a.callee.fragment)
        let other = ConnectivityCredentials.derive(callSecret: SecureBytes(randomCount: 32))
        #expect(!other.caller.key.constantTimeEquals(a.caller.key))
    }

    @Test func nothingIsSelectedWhenNoCandidateAnswers() {
        let (c, d) = ConnectivityCredentials.derive(callSecret: SecureBytes(randomCount: 32))
        var caller = ConnectivityChecks(
            role: .controlling, local: c, remote: d, remoteCandidates: [Candidate(kind: .host, address: bobUnreachable)])
        var callee = ConnectivityChecks(role: .controlled, local: d, remote: c, remoteCandidates: [])
        let picked = run(&caller, &callee, limit: 30)
        #expect(picked.caller == nil && picked.callee == nil)
    }

    /// Sends of checks (not answers) in `actions`, by destination.
    func checks(in actions: [ConnectivityChecks.Action]) -> [TransportAddress] {
        actions.compactMap { action in
            guard case let .send(bytes, to) = action, (try? STUNMessage(parsing: bytes))?.messageClass == .request else { return nil }
            return to
        }
    }

    /// RFC 8445 Ta: one check per pace, best pair first, whatever the number of candidates.
    @Test func checksLeaveOneAtATimeBestPairFirst() {
        let (c, d) = ConnectivityCredentials.derive(callSecret: SecureBytes(randomCount: 32))
        let relayed = TransportAddress(ipv4: "203.0.113.10", port: 50000)!
        var caller = ConnectivityChecks(
            role: .controlling, local: c, remote: d,
            remoteCandidates: [
                Candidate(kind: .relay, address: relayed), Candidate(kind: .serverReflexive, address: bob),
                Candidate(kind: .host, address: bobUnreachable)
            ])
        #expect(checks(in: caller.tick(now: 0)) == [bobUnreachable], "the host candidate first")
        #expect(caller.tick(now: 0.002).isEmpty, "no second check within Ta")
        #expect(checks(in: caller.tick(now: 0.005)) == [bob])
        #expect(checks(in: caller.tick(now: 0.01)) == [relayed])
        #expect(caller.tick(now: 0.015).isEmpty, "every pair is waiting for its retry")
        #expect(caller.isPacing)
        #expect(checks(in: caller.tick(now: 0.1)) == [bobUnreachable], "the first retry is due 100 ms after the first check")
    }

    /// Bad input and abuse (docs/networking.md "Candidates and checks"): an address that never answers gets a bounded number
    /// of checks, so a device cannot be turned into a reflector at whatever a peer announces.
    @Test func anAddressThatNeverAnswersStopsGettingChecks() {
        let (c, d) = ConnectivityCredentials.derive(callSecret: SecureBytes(randomCount: 32))
        var caller = ConnectivityChecks(
            role: .controlling, local: c, remote: d, remoteCandidates: [Candidate(kind: .host, address: bobUnreachable)])
        var sent = 0
        for step in 0..<1_000 { sent += checks(in: caller.tick(now: Double(step) * 0.02)).count }  // 20 s
        #expect(sent == ConnectivityChecks.attemptsPerAddress)
        #expect(caller.exhausted)
        #expect(!caller.isPacing, "the engine's check clock stops")
    }

    @Test func aPeerCannotMakeUsCheckMoreThanTheCapOfCandidates() {
        let (c, d) = ConnectivityCredentials.derive(callSecret: SecureBytes(randomCount: 32))
        let many = (0..<40).map { Candidate(kind: .host, address: TransportAddress(ip: [198, 51, 100, UInt8($0)], port: 9)) }
        let caller = ConnectivityChecks(role: .controlling, local: c, remote: d, remoteCandidates: many)
        #expect(caller.remoteCandidates.count == ConnectivityChecks.maximumRemoteCandidates)
    }

    /// A device behind a NAT that maps each destination anew: its checks reach the other side
    /// from an address it never announced. The other side learns it as peer-reflexive, checks
    /// back to it at once (a triggered check), and settles on it.
    @Test func aCheckFromAnUnannouncedAddressIsLearnedAndCheckedBack() {
        let (c, d) = ConnectivityCredentials.derive(callSecret: SecureBytes(randomCount: 32))
        let aliceMapped = TransportAddress(ipv4: "203.0.113.21", port: 61000)!
        // Alice (behind the NAT) announced an address nobody can reach; Bob's is fine.
        var alice = ConnectivityChecks(role: .controlled, local: c, remote: d, remoteCandidates: [Candidate(kind: .host, address: bob)])
        var bobChecks = ConnectivityChecks(
            role: .controlling, local: d, remote: c,
            remoteCandidates: [Candidate(kind: .serverReflexive, address: bobUnreachable)])
        // Alice's check arrives from her NAT's new mapping.
        let first = alice.tick(now: 0)
        guard case let .send(check, to)? = first.first, to == bob else {
            Issue.record("no check to bob: \(first)")
            return
        }
        let answered = bobChecks.receive(check, from: aliceMapped, now: 0.01)
        #expect(answered.contains { if case let .send(_, to) = $0 { to == aliceMapped } else { false } }, "answered where it came from")
        #expect(bobChecks.remoteCandidates.contains { $0.kind == .peerReflexive && $0.address == aliceMapped })
        // With the answer goes the triggered check, to the learned address.
        let triggered = answered.filter {
            if case let .send(bytes, _) = $0 { (try? STUNMessage(parsing: bytes))?.messageClass == .request } else { false }
        }
        #expect(checks(in: triggered) == [aliceMapped])
        // It reaches Alice (her NAT lets replies to its mapping in); her answer makes the pair valid.
        var selected: TransportAddress?
        for case let .send(bytes, _) in triggered {
            for case let .send(answer, _) in alice.receive(bytes, from: bob, now: 0.03) {
                for case let .selected(address) in bobChecks.receive(answer, from: aliceMapped, now: 0.04) { selected = address }
            }
        }
        #expect(selected == aliceMapped)
    }

    /// Someone on the path records the caller's nomination and replays it from an address of
    /// their own (after a restart the same credentials are in use again). The callee answers,
    /// checks that address back — and since nobody there holds the key, selects nothing.
    @Test func aReplayedNominationFromAnotherAddressSelectsNothing() {
        let (c, d) = ConnectivityCredentials.derive(callSecret: SecureBytes(randomCount: 32))
        let mallory = TransportAddress(ipv4: "203.0.113.66", port: 6666)!
        var caller = ConnectivityChecks(role: .controlling, local: c, remote: d, remoteCandidates: [Candidate(kind: .host, address: bob)])
        var callee = ConnectivityChecks(role: .controlled, local: d, remote: c, remoteCandidates: [Candidate(kind: .host, address: alice)])
        // The genuine exchange up to the caller's nomination.
        var nomination: [UInt8]?
        for case let .send(check, _) in caller.tick(now: 0) {
            for case let .send(answer, _) in callee.receive(check, from: alice, now: 0.01)
            where (try? STUNMessage(parsing: answer))?.messageClass == .success {
                for case let .send(bytes, _) in caller.receive(answer, from: bob, now: 0.02)
                where (try? STUNMessage(parsing: bytes))?.first(.useCandidate) != nil { nomination = bytes }
            }
        }
        let recorded = try! #require(nomination)
        #expect((try? STUNMessage(parsing: recorded))?.first(.useCandidate) != nil)
        // Replayed from Mallory's address: answered, but not selected.
        let replayed = callee.receive(recorded, from: mallory, now: 0.03)
        #expect(!replayed.contains { if case .selected = $0 { true } else { false } })
        // The callee's triggered check goes to Mallory, who cannot answer it with the key.
        let sent = checks(in: replayed) + (0..<5).flatMap { step in checks(in: callee.tick(now: 0.05 + Double(step) * 0.02)) }
        #expect(sent.contains(mallory), "\(sent)")
        #expect(callee.selected == nil)
    }
}
