import DuetCrypto
import DuetWire

/// The client side of a TURN allocation (RFC 8656 over UDP, TCP or TLS), against Duet's own relay or any
/// TURN server (coturn): long-term credentials with a 401 challenge, Allocate, a permission
/// and a channel per peer, Refresh before expiry, and wrapping/unwrapping of media.
///
/// A plain struct: the call engine gives it datagrams from the TURN server and the time,
/// and sends what it returns. The integrity HMAC is supplied by the caller (`integrity`), so
/// the same code serves HMAC-SHA1 (RFC 8656's MESSAGE-INTEGRITY) wherever it comes from.
public struct RelayClient: Sendable {
    public enum Action: Equatable, Sendable {
        /// Send to the TURN server.
        case send([UInt8])
        /// The relay gave us this address; peers send to it.
        case allocated(relayed: TransportAddress, mapped: TransportAddress?)
        /// Packets to and from `peer` now go over a channel.
        case channelBound(peer: TransportAddress)
        case failed(String)
    }

    public enum State: Equatable, Sendable {
        case idle, allocating, allocated(TransportAddress), failed(String)
    }

    /// Seconds between retransmissions of an unanswered request (RFC 8489 suggests 0.5 s doubling;
    /// a call setup cannot wait that long, so a steady 0.25 s with a cap on tries).
    public static let retransmitInterval = 0.25
    public static let maximumTries = 8

    let username: String
    let password: String
    /// Over TCP or TLS nothing is resent (the stream does that; a resent Allocate would be
    /// refused as a duplicate), but a request unanswered as long still fails.
    let transport: RelayTransport
    let integrity: @Sendable (_ username: String, _ realm: String, _ password: String) -> STUNIntegrity
    public private(set) var state: State = .idle
    private var realm: String?
    private var nonce: String?
    private var lifetime = 600.0
    private var allocatedAt = 0.0
    private var channels: [TransportAddress: UInt16] = [:]
    private var boundChannels: Set<UInt16> = []
    private var nextChannel: UInt16 = 0x4000

    /// A request waiting for its answer.
    private struct Pending: Sendable {
        var message: STUNMessage
        var sentAt: Double
        var tries: Int
        var authenticated: Bool
    }
    private var pending: [[UInt8]: Pending] = [:]

    public init(
        username: String, password: String,
        integrity: @escaping @Sendable (_ username: String, _ realm: String, _ password: String) -> STUNIntegrity,
        transport: RelayTransport = .udp
    ) {
        self.username = username
        self.password = password
        self.integrity = integrity
        self.transport = transport
    }

    /// Starts with an unauthenticated Allocate; the server's 401 tells us its realm and nonce.
    public mutating func start(now: Double) -> [Action] {
        state = .allocating
        return [request(.allocate, [.requestedTransportUDP, .uint32(.lifetime, 600)], now: now)]
    }

    /// Lets `peer` send to us through the relay and binds a channel to it.
    public mutating func permit(_ peer: TransportAddress, now: Double) -> [Action] {
        guard case .allocated = state, channels[peer] == nil else { return [] }
        let channel = nextChannel
        nextChannel += 1
        channels[peer] = channel
        var bind = STUNMessage(method: .channelBind, messageClass: .request, transactionID: newTransactionID())
        bind.attributes = [.channelNumber(channel), bind.xorAddress(.xorPeerAddress, peer)]
        return [send(bind, now: now)]
    }

    /// Media for `peer`, framed for the relay: ChannelData once bound, else a Send indication.
    public func wrap(_ payload: [UInt8], to peer: TransportAddress) -> [UInt8] {
        if let channel = channels[peer], boundChannels.contains(channel) {
            return ChannelData(channel: channel, payload: payload).encoded
        }
        var indication = STUNMessage(method: .send, messageClass: .indication, transactionID: newTransactionID())
        indication.attributes = [indication.xorAddress(.xorPeerAddress, peer), STUNAttribute(.data, payload)]
        return indication.encoded()
    }

    /// Media a peer sent through the relay, or nil if `bytes` is not relayed data for us.
    public func unwrap(_ bytes: [UInt8]) -> (peer: TransportAddress, payload: [UInt8])? {
        switch MediaPacketKind(datagram: bytes) {
        case .turnChannel:
            guard let data = try? ChannelData(parsing: bytes),
                let peer = channels.first(where: { $0.value == data.channel })?.key
            else { return nil }
            return (peer, data.payload)
        case .stun:
            guard let m = try? STUNMessage(parsing: bytes), m.method == .data, m.messageClass == .indication,
                let peer = try? m.address(.xorPeerAddress), let payload = m.first(.data)
            else { return nil }
            return (peer, payload)
        default:
            return nil
        }
    }

    /// A STUN response from the TURN server.
    public mutating func receive(_ bytes: [UInt8], now: Double) -> [Action] {
        guard let message = try? STUNMessage(parsing: bytes), message.messageClass == .success || message.messageClass == .error,
            let request = pending[message.transactionID]
        else { return [] }
        let unauthenticatedError = message.messageClass == .error && [400, 401, 438].contains(message.errorCode?.code ?? 0)
        if request.authenticated, let realm, !unauthenticatedError {
            // Responses to authenticated requests must carry valid integrity (RFC 8489 §9.2.5);
            // a server that cannot check our credentials answers 400/401/438 without it.
            guard (try? STUNMessage.verifyIntegrity(of: bytes, integrity(username, realm, password))) != nil else { return [] }
        }
        pending[message.transactionID] = nil
        if message.messageClass == .error {
            let code = message.errorCode?.code ?? 0
            if (code == 401 && !request.authenticated) || code == 438, let realm = message.text(.realm), let nonce = message.text(.nonce) {
                self.realm = realm
                self.nonce = nonce
                let retry = STUNMessage(
                    method: request.message.method, messageClass: .request, transactionID: newTransactionID(),
                    attributes: request.message.attributes)
                return [send(retry, now: now)]
            }
            let reason = "TURN \(request.message.method) refused: \(code) \(message.errorCode?.reason ?? "")"
            if request.message.method == .allocate {
                state = .failed(reason)
                return [.failed(reason)]
            }
            return [.failed(reason)]
        }
        switch request.message.method {
        case .allocate:
            guard let relayed = try? message.address(.xorRelayedAddress) else {
                state = .failed("TURN Allocate answer has no relayed address")
                return [.failed("TURN Allocate answer has no relayed address")]
            }
            lifetime = Double(message.uint32(.lifetime) ?? 600)
            allocatedAt = now
            state = .allocated(relayed)
            return [.allocated(relayed: relayed, mapped: try? message.address(.xorMappedAddress))]
        case .refresh:
            lifetime = Double(message.uint32(.lifetime) ?? UInt32(lifetime))
            allocatedAt = now
            return []
        case .channelBind:
            guard let channel = request.message.channelNumber, let peer = channels.first(where: { $0.value == channel })?.key else {
                return []
            }
            boundChannels.insert(channel)
            return [.channelBound(peer: peer)]
        default:
            return []
        }
    }

    /// Retransmits unanswered requests and refreshes the allocation (and channels) before they lapse.
    public mutating func tick(now: Double) -> [Action] {
        var actions: [Action] = []
        for (tid, request) in pending where now - request.sentAt >= Self.retransmitInterval {
            if request.tries >= Self.maximumTries {
                pending[tid] = nil
                let reason = "TURN server did not answer \(request.message.method)"
                if request.message.method == .allocate { state = .failed(reason) }
                actions.append(.failed(reason))
                continue
            }
            pending[tid]?.sentAt = now
            pending[tid]?.tries += 1
            if transport == .udp { actions.append(.send(encode(request.message))) }
        }
        if case .allocated = state, now - allocatedAt > lifetime / 2 {
            allocatedAt = now
            actions.append(request(.refresh, [.uint32(.lifetime, UInt32(lifetime))], now: now))
            for (peer, channel) in channels where boundChannels.contains(channel) {
                var bind = STUNMessage(method: .channelBind, messageClass: .request, transactionID: newTransactionID())
                bind.attributes = [.channelNumber(channel), bind.xorAddress(.xorPeerAddress, peer)]
                actions.append(send(bind, now: now))
            }
        }
        return actions
    }

    /// Releases the allocation (Refresh with lifetime 0).
    public mutating func release(now: Double) -> [Action] {
        guard case .allocated = state else { return [] }
        state = .idle
        return [request(.refresh, [.uint32(.lifetime, 0)], now: now)]
    }

    // MARK: - Requests

    private mutating func request(_ method: STUNMessage.Method, _ attributes: [STUNAttribute], now: Double) -> Action {
        send(STUNMessage(method: method, messageClass: .request, transactionID: newTransactionID(), attributes: attributes), now: now)
    }

    private mutating func send(_ message: STUNMessage, now: Double) -> Action {
        pending[message.transactionID] = Pending(message: message, sentAt: now, tries: 1, authenticated: realm != nil)
        return .send(encode(message))
    }

    /// Adds USERNAME, REALM, NONCE and MESSAGE-INTEGRITY once the server has challenged us.
    private func encode(_ message: STUNMessage) -> [UInt8] {
        guard let realm, let nonce else { return message.encoded(fingerprint: true) }
        var signed = message
        signed.attributes += [.text(.username, username), .text(.realm, realm), .text(.nonce, nonce)]
        return signed.encoded(integrity: integrity(username, realm, password), fingerprint: true)
    }

    private func newTransactionID() -> [UInt8] {
        SecureRandom.bytes(STUNMessage.transactionIDCount)
    }
}
