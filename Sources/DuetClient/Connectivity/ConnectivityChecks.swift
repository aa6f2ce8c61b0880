import DuetCrypto
import DuetWire

/// STUN connectivity checks between the two devices of a call (RFC 8445 §6–7, for one media
/// component on one wildcard-bound socket): every local candidate shares that socket, so a
/// check list has one pair per remote candidate, in priority order. Checks leave one at a time,
/// paced (Ta), each retried with a growing interval and given up after `attemptsPerAddress`, so
/// an address that never answers stops receiving — a device cannot be made to spray a victim. A
/// valid check from an address the peer never announced teaches a peer-reflexive candidate
/// (its NAT's mapping toward us) and triggers a check back, which is how a call finds its way
/// through NATs. The controlling side (the caller) nominates the first pair that works with
/// USE-CANDIDATE, resent until answered, so both sides settle on the same pair.
///
/// A plain struct: datagrams and time in, actions out; the call engine owns the socket.
public struct ConnectivityChecks: Sendable {
    public enum Role: Sendable { case controlling, controlled }

    public enum Action: Equatable, Sendable {
        case send([UInt8], to: TransportAddress)
        /// Both directions work with this address; media may use it.
        case selected(TransportAddress)
    }

    /// Ta (RFC 8445 §14.2): at most one check leaves per this many seconds (`CallEngine.checkPace`).
    public static let pacing = 0.005
    /// An unanswered check is resent after this, doubling up to `maximumInterval`.
    public static let firstInterval = 0.1
    public static let maximumInterval = 0.4
    /// Checks sent to one address before it counts as failed: about two seconds of trying.
    public static let attemptsPerAddress = 7
    /// Candidates the peer may announce; more are ignored (the offer's size is bounded too).
    public static let maximumRemoteCandidates = 16
    /// Peer-reflexive candidates learned per call; more unknown sources are answered but not checked.
    public static let maximumPeerReflexive = 8
    /// Times a failed pair is checked again when the peer's check comes from it.
    public static let maximumRevivals = 3
    /// Sends of the nomination before giving up on it (about two seconds).
    public static let maximumNominations = 20

    /// One remote candidate and how checking it goes.
    struct Pair: Sendable {
        enum State: Sendable, Equatable {
            case waiting
            case inProgress(attempts: Int, nextAt: Double, interval: Double)
            case succeeded
            case failed
        }

        let candidate: Candidate
        var state: State = .waiting
        /// Times a failed pair was checked afresh because the peer's own check came from it.
        var revivals = 0
    }

    let role: Role
    let local: ConnectivityCredentials
    let remote: ConnectivityCredentials
    private(set) var pairs: [Pair]
    /// Addresses to check next, ahead of the ordinary order (a check arrived from them).
    private var triggered: [TransportAddress] = []
    private var outstanding: [[UInt8]: TransportAddress] = [:]
    private var lastSent = -Double.infinity
    public private(set) var selected: TransportAddress?
    /// The controlling side's nomination until the peer answers it: resent like any check,
    /// because a lost nomination would leave the controlled side waiting for ever.
    private var pendingNomination: (transactionID: [UInt8], bytes: [UInt8], to: TransportAddress, nextAt: Double, sent: Int)?
    /// Addresses the controlling side nominated whose own check has not come back yet: the
    /// controlled side selects one only once its check to it succeeded (RFC 8445 §7.3.1.5), so a
    /// recorded nomination replayed from another address selects nothing.
    private var nominated: Set<TransportAddress> = []

    public init(role: Role, local: ConnectivityCredentials, remote: ConnectivityCredentials, remoteCandidates: [Candidate]) {
        self.role = role
        self.local = local
        self.remote = remote
        var seen: Set<TransportAddress> = []
        pairs = remoteCandidates.prefix(Self.maximumRemoteCandidates)
            .sorted { $0.priority > $1.priority }
            .filter { seen.insert($0.address).inserted }
            .map { Pair(candidate: $0) }
    }

    /// Candidates the peer found after its offer or answer (trickled): checked like the first,
    /// in priority order among the pairs still waiting; an address already known, and any
    /// beyond `maximumRemoteCandidates`, is ignored. Nothing changes once a pair is selected.
    public mutating func add(_ candidates: [Candidate]) {
        guard selected == nil else { return }
        var known = Set(pairs.map(\.candidate.address))
        let announced = pairs.filter { $0.candidate.kind != .peerReflexive }.count
        let fresh = candidates.filter { $0.kind != .peerReflexive && known.insert($0.address).inserted }
            .prefix(max(0, Self.maximumRemoteCandidates - announced))
        for candidate in fresh {
            let index = pairs.firstIndex { $0.state == .waiting && $0.candidate.priority < candidate.priority } ?? pairs.endIndex
            pairs.insert(Pair(candidate: candidate), at: index)
        }
    }

    /// The remote candidates checked or learned so far, best first.
    public var remoteCandidates: [Candidate] { pairs.map(\.candidate) }

    /// True once every pair failed and nothing is left to try (the relay is the way then).
    public var exhausted: Bool {
        selected == nil && triggered.isEmpty && pairs.allSatisfy { $0.state == .failed }
    }

    /// Whether `tick` may still have something to send: a check to make or resend, or the
    /// nomination to repeat. False once a pair is selected and nominated, or every pair failed.
    public var isPacing: Bool {
        pendingNomination != nil || (selected == nil && !exhausted)
    }

    /// Sends at most one check (or the nomination) when the pace allows.
    public mutating func tick(now: Double) -> [Action] {
        if var nomination = pendingNomination {
            guard now >= nomination.nextAt else { return [] }
            guard nomination.sent < Self.maximumNominations else {
                pendingNomination = nil
                return []
            }
            nomination.nextAt = now + Self.firstInterval
            nomination.sent += 1
            pendingNomination = nomination
            lastSent = now
            return [.send(nomination.bytes, to: nomination.to)]
        }
        // Pace with a little slack: the engine's clock wanders by a fraction of a millisecond.
        guard selected == nil, now - lastSent >= Self.pacing * 0.9, let index = nextPair(now: now) else { return [] }
        let interval: Double
        let attempts: Int
        if case let .inProgress(sent, _, previous) = pairs[index].state {
            attempts = sent + 1
            interval = min(previous * 2, Self.maximumInterval)
        } else {
            attempts = 1
            interval = Self.firstInterval
        }
        pairs[index].state = .inProgress(attempts: attempts, nextAt: now + interval, interval: interval)
        lastSent = now
        let target = pairs[index].candidate.address
        let (tid, bytes) = check(useCandidate: false)
        outstanding[tid] = target
        return [.send(bytes, to: target)]
    }

    /// The pair to check now: a triggered one, else the best waiting one, else the one whose
    /// retry is due soonest; pairs out of attempts fail on the way.
    private mutating func nextPair(now: Double) -> Int? {
        while let address = triggered.first {
            triggered.removeFirst()
            guard let index = pairs.firstIndex(where: { $0.candidate.address == address }) else { continue }
            switch pairs[index].state {
            case .waiting:
                return index
            case let .inProgress(attempts, _, interval) where attempts < Self.attemptsPerAddress:
                // Checked now, but the attempts it already had still count: a peer that keeps
                // triggering cannot make us send without end.
                pairs[index].state = .inProgress(attempts: attempts, nextAt: now, interval: interval)
                return index
            case .failed where pairs[index].revivals < Self.maximumRevivals:
                // The peer's check came from there after ours gave up (its side of the hole was
                // punched late): try again (RFC 8445 §7.3.1.4), a bounded number of times.
                pairs[index].revivals += 1
                pairs[index].state = .waiting
                return index
            default:
                continue
            }
        }
        if let index = pairs.firstIndex(where: { $0.state == .waiting }) { return index }
        var due: (index: Int, at: Double)?
        for index in pairs.indices {
            guard case let .inProgress(attempts, nextAt, _) = pairs[index].state, nextAt <= now else { continue }
            if attempts >= Self.attemptsPerAddress {
                pairs[index].state = .failed
                continue
            }
            if due == nil || nextAt < due!.at { due = (index, nextAt) }
        }
        return due?.index
    }

    /// A STUN datagram from the peer's side; returns nothing for anything not ours.
    public mutating func receive(_ bytes: [UInt8], from source: TransportAddress, now: Double) -> [Action] {
        guard let message = try? STUNMessage(parsing: bytes), message.method == .binding else { return [] }
        switch message.messageClass {
        case .request:
            // The answer at once, and the triggered check back too when the pace allows: the
            // controlled side selects a nominated pair only once that check came back.
            var actions = answer(message, bytes, from: source)
            if selected == nil, pendingNomination == nil, now - lastSent >= Self.pacing * 0.9 { actions += tick(now: now) }
            return actions
        case .success: return accept(message, bytes, from: source, now: now)
        default: return []
        }
    }

    /// A check addressed to us (USERNAME "ours:theirs", integrity under our key): answered at
    /// once; its source is learned if new and checked back.
    private mutating func answer(_ message: STUNMessage, _ bytes: [UInt8], from source: TransportAddress) -> [Action] {
        guard message.text(.username) == "\(local.fragment):\(remote.fragment)",
            (try? STUNMessage.verifyIntegrity(of: bytes, local.integrity)) != nil
        else { return [] }
        var response = STUNMessage(method: .binding, messageClass: .success, transactionID: message.transactionID)
        response.attributes = [response.xorAddress(.xorMappedAddress, source)]
        var actions: [Action] = [.send(response.encoded(integrity: local.integrity, fingerprint: true), to: source)]
        learn(source, announcedPriority: message.uint32(.priority))
        if role == .controlled, message.first(.useCandidate) != nil, selected == nil {
            if pairs.contains(where: { $0.candidate.address == source && $0.state == .succeeded }) {
                selected = source
                actions.append(.selected(source))
            } else {
                nominated.insert(source)
            }
        }
        return actions
    }

    /// Adds `source` as a peer-reflexive candidate if it is new (and there is room), and
    /// queues a triggered check to it unless its pair already works.
    private mutating func learn(_ source: TransportAddress, announcedPriority: UInt32?) {
        guard selected == nil else { return }
        if let index = pairs.firstIndex(where: { $0.candidate.address == source }) {
            if pairs[index].state != .succeeded, !triggered.contains(source) { triggered.append(source) }
            return
        }
        guard pairs.count(where: { $0.candidate.kind == .peerReflexive }) < Self.maximumPeerReflexive else { return }
        let candidate = Candidate(peerReflexive: source, priority: announcedPriority ?? Candidate.priority(.peerReflexive))
        pairs.append(Pair(candidate: candidate))
        triggered.append(source)
    }

    /// An answer to one of our checks: authenticated, and from where the check went (RFC 8445
    /// §7.2.5.2.1), or ignored.
    private mutating func accept(_ message: STUNMessage, _ bytes: [UInt8], from source: TransportAddress, now: Double) -> [Action] {
        guard let target = outstanding[message.transactionID], target == source,
            (try? STUNMessage.verifyIntegrity(of: bytes, remote.integrity)) != nil
        else { return [] }
        outstanding[message.transactionID] = nil
        if pendingNomination?.transactionID == message.transactionID { pendingNomination = nil }
        if let index = pairs.firstIndex(where: { $0.candidate.address == source }) { pairs[index].state = .succeeded }
        if role == .controlled, selected == nil, nominated.contains(source) {
            selected = source
            return [.selected(source)]
        }
        guard role == .controlling, selected == nil else { return [] }
        selected = source
        let (tid, nomination) = check(useCandidate: true)
        outstanding[tid] = source
        pendingNomination = (tid, nomination, source, now + Self.firstInterval, 1)
        lastSent = now
        return [.send(nomination, to: source), .selected(source)]
    }

    private func check(useCandidate: Bool) -> ([UInt8], [UInt8]) {
        let tid = SecureRandom.bytes(STUNMessage.transactionIDCount)
        var request = STUNMessage(method: .binding, messageClass: .request, transactionID: tid)
        request.attributes = [
            .text(.username, "\(remote.fragment):\(local.fragment)"),
            .uint32(.priority, Candidate.priority(.peerReflexive)),
            STUNAttribute(role == .controlling ? .iceControlling : .iceControlled, [UInt8](repeating: 0, count: 8))
        ]
        if useCandidate { request.attributes.append(STUNAttribute(.useCandidate, [])) }
        return (tid, request.encoded(integrity: remote.integrity, fingerprint: true))
    }
}
