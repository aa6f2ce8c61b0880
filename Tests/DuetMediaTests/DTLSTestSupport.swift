import DuetCrypto

@testable import DuetMedia

/// Two in-memory DTLS endpoints and the "network" between them: a queue of datagrams that a
/// test may drop, corrupt or add to, and OpenSSL's timers driven by real sleeps.
final class DTLSTestLink {
    enum Side: CustomStringConvertible {
        case client, server
        var description: String { self == .client ? "client" : "server" }
    }

    let clientCertificate: DTLSCertificate
    let serverCertificate: DTLSCertificate
    let client: DTLSEndpoint
    let server: DTLSEndpoint

    var clientKeys: DTLSSRTPKeys?
    var serverKeys: DTLSSRTPKeys?
    var clientFailure: DTLSError?
    var serverFailure: DTLSError?
    var clientClosed = false
    var serverClosed = false
    /// Every datagram an endpoint asked to send, before the link's tampering.
    var sent: [(from: Side, datagram: [UInt8])] = []
    private var inFlight: [(to: Side, datagram: [UInt8])] = []

    init(
        clientProfiles: [SRTPProfile] = [.aesCM128HMACSHA1_80], serverProfiles: [SRTPProfile] = [.aesCM128HMACSHA1_80],
        clientExpects: DTLSFingerprint? = nil, serverExpects: DTLSFingerprint? = nil,
        serverAcceptsAnyClient: Bool = false, maximumRetransmissions: Int = 5
    ) throws {
        clientCertificate = try DTLSCertificate(commonName: "client")
        serverCertificate = try DTLSCertificate(commonName: "server")
        client = try DTLSEndpoint(
            role: .client, certificate: clientCertificate,
            peerFingerprint: clientExpects ?? serverCertificate.fingerprint, profiles: clientProfiles,
            initialRetransmissionTimeout: .milliseconds(40), maximumRetransmissions: maximumRetransmissions)
        server = try DTLSEndpoint(
            role: .server, certificate: serverCertificate,
            peerFingerprint: serverAcceptsAnyClient ? nil : serverExpects ?? clientCertificate.fingerprint,
            profiles: serverProfiles,
            initialRetransmissionTimeout: .milliseconds(40), maximumRetransmissions: maximumRetransmissions)
    }

    var finished: Bool {
        (clientKeys != nil || clientFailure != nil || clientClosed) && (serverKeys != nil || serverFailure != nil || serverClosed)
    }

    /// Runs until both sides have an outcome, the network is quiet with no timer left, or
    /// `limit` passes. `tamper` sees each datagram about to be delivered (with its running
    /// index) and returns the datagrams to deliver instead: [] drops it.
    func run(
        limit: Duration = .seconds(10),
        tamper: (_ to: Side, _ index: Int, _ datagram: [UInt8]) -> [[UInt8]] = { _, _, d in [d] }
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        handle(client.start(), from: .client)
        var index = 0
        while (!finished || !inFlight.isEmpty) && clock.now < deadline {
            if !inFlight.isEmpty {
                let (to, datagram) = inFlight.removeFirst()
                for delivered in tamper(to, index, datagram) {
                    handle((to == .client ? client : server).receive(delivered), from: to)
                }
                index += 1
                continue
            }
            let waits = [client.timeUntilTick, server.timeUntilTick].compactMap { $0 }
            guard let wait = waits.min() else {
                // Quiet and no timer: let any late data settle once, then stop.
                break
            }
            try await Task.sleep(for: wait + .milliseconds(2))
            handle(client.tick(), from: .client)
            handle(server.tick(), from: .server)
        }
    }

    /// Tampering hook for garbage fed directly, outside the queue.
    func inject(_ datagram: [UInt8], to side: Side) {
        handle((side == .client ? client : server).receive(datagram), from: side)
    }

    private func handle(_ actions: [DTLSAction], from side: Side) {
        for action in actions {
            switch action {
            case let .send(datagram):
                sent.append((side, datagram))
                inFlight.append((side == .client ? .server : .client, datagram))
            case let .connected(keys):
                if side == .client { clientKeys = keys } else { serverKeys = keys }
            case let .failed(error):
                if side == .client { clientFailure = error } else { serverFailure = error }
            case .closed:
                if side == .client { clientClosed = true } else { serverClosed = true }
            case .discarded:
                break
            }
        }
    }
}

extension SecureBytes {
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
