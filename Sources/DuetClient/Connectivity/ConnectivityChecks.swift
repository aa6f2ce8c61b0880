import DuetWire

/// STUN connectivity checks between the two devices of a call (RFC 8445, reduced to what a
/// 1:1 call over one local UDP socket needs): send an authenticated Binding request to each
/// of the peer's candidates, answer the peer's requests, and take the first candidate whose
/// answer comes back authenticated. The controlling side (the caller) then nominates that
/// address with USE-CANDIDATE so both sides settle on the same pair.
///
/// A plain struct: datagrams and time in, actions out; the call engine owns the socket.
public struct ConnectivityChecks: Sendable {
    public enum Role: Sendable { case controlling, controlled }

    public enum Action: Equatable, Sendable {
        case send([UInt8], to: TransportAddress)
        /// Both directions work with this address; media may use it.
        case selected(TransportAddress)
    }

    /// Seconds between retransmissions of unanswered checks.
    public static let retransmitInterval = 0.1

    let role: Role
    let local: ConnectivityCredentials
    let remote: ConnectivityCredentials
    let remoteCandidates: [Candidate]
    private var outstanding: [[UInt8]: TransportAddress] = [:]
    private var lastSent = -Double.infinity
    public private(set) var selected: TransportAddress?
    private var nominationSent = false
    /// The controlling side's nomination until the peer answers it: resent like any check,
    /// because a lost nomination would leave the controlled side waiting for ever.
    private var pendingNomination: (transactionID: [UInt8], bytes: [UInt8], to: TransportAddress)?

    public init(role: Role, local: ConnectivityCredentials, remote: ConnectivityCredentials, remoteCandidates: [Candidate]) {
        self.role = role
        self.local = local
        self.remote = remote
        self.remoteCandidates = remoteCandidates.sorted { $0.preference > $1.preference }
    }

    /// Sends (or resends) a check to every candidate not yet answered, and the nomination
    /// until it is answered.
    public mutating func tick(now: Double) -> [Action] {
        guard now - lastSent >= Self.retransmitInterval else { return [] }
        if let nomination = pendingNomination {
            lastSent = now
            return [.send(nomination.bytes, to: nomination.to)]
        }
        guard selected == nil else { return [] }
        lastSent = now
        return remoteCandidates.map { candidate in
            let (tid, bytes) = check(useCandidate: false)
            outstanding[tid] = candidate.address
            return .send(bytes, to: candidate.address)
        }
    }

    /// A STUN datagram from the peer's side; returns nothing for anything not ours.
    public mutating func receive(_ bytes: [UInt8], from source: TransportAddress, now: Double) -> [Action] {
        guard let message = try? STUNMessage(parsing: bytes), message.method == .binding else { return [] }
        switch message.messageClass {
        case .request:
            // Addressed to us: USERNAME "ours:theirs", integrity under our key.
            guard message.text(.username) == "\(local.fragment):\(remote.fragment)",
                  (try? STUNMessage.verifyIntegrity(of: bytes, local.integrity)) != nil else { return [] }
            var response = STUNMessage(method: .binding, messageClass: .success, transactionID: message.transactionID)
            response.attributes = [response.xorAddress(.xorMappedAddress, source)]
            var actions: [Action] = [.send(response.encoded(integrity: local.integrity, fingerprint: true), to: source)]
            if role == .controlled, message.first(.useCandidate) != nil, selected == nil {
                selected = source
                actions.append(.selected(source))
            }
            return actions
        case .success:
            guard let target = outstanding[message.transactionID], target == source,
                  (try? STUNMessage.verifyIntegrity(of: bytes, remote.integrity)) != nil else { return [] }
            outstanding[message.transactionID] = nil
            if pendingNomination?.transactionID == message.transactionID { pendingNomination = nil }
            guard role == .controlling, selected == nil, !nominationSent else { return [] }
            nominationSent = true
            selected = source
            let (tid, nomination) = check(useCandidate: true)
            outstanding[tid] = source
            pendingNomination = (tid, nomination, source)
            lastSent = now
            return [.send(nomination, to: source), .selected(source)]
        default:
            return []
        }
    }

    private func check(useCandidate: Bool) -> ([UInt8], [UInt8]) {
        var rng = SystemRandomNumberGenerator()
        let tid = STUNMessage.randomTransactionID(using: &rng)
        var request = STUNMessage(method: .binding, messageClass: .request, transactionID: tid)
        request.attributes = [.text(.username, "\(remote.fragment):\(local.fragment)"),
                              STUNAttribute(role == .controlling ? .iceControlling : .iceControlled, [UInt8](repeating: 0, count: 8))]
        if useCandidate { request.attributes.append(STUNAttribute(.useCandidate, [])) }
        return (tid, request.encoded(integrity: remote.integrity, fingerprint: true))
    }
}
