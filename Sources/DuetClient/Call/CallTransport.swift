import DuetCrypto
import DuetWire
import Foundation
import Synchronization

/// A call's network side before media: the UDP socket, our candidates (host, and the
/// server-reflexive address the server's media port saw), and the relay credentials for
/// this call.
struct CallTransport: Sendable {
    let socket: MediaSocket
    let candidates: [Candidate]
    /// The TURN server and credentials to use if the relay is needed.
    let relayServer: TransportAddress?
    let relayUsername: String
    let relayPassword: String

    static func open(session: DeviceSession, callID: String, options: CallOptions) async throws -> CallTransport {
        let socket = try await MediaSocket.bind(host: options.mediaHost)
        var candidates = [Candidate(kind: .host, address: socket.localAddress)]
        let credentials = try? await session.connection.relayCredentials(callID: callID)
        let serverMedia = credentials.flatMap { mediaAddress($0.relay, signaling: session.server) }
        if let serverMedia, let reflexive = await serverReflexiveAddress(socket: socket, server: serverMedia),
           reflexive != socket.localAddress {
            candidates.append(Candidate(kind: .serverReflexive, address: reflexive))
        }
        let transport = if let turn = options.externalTURN {
            CallTransport(socket: socket, candidates: candidates, relayServer: turn.server, relayUsername: turn.username, relayPassword: turn.password)
        } else {
            CallTransport(socket: socket, candidates: candidates, relayServer: serverMedia,
                          relayUsername: credentials?.username ?? "", relayPassword: credentials?.password ?? "")
        }
        socket.impair(options.inboundImpairment)
        if options.blockDirectTraffic {
            socket.restrict(to: Set([serverMedia, transport.relayServer].compactMap { $0 }))
        }
        return transport
    }

    /// The server's media port as a UDP address. A server listening on every interface
    /// (0.0.0.0) or by name is reached at the host we signal to.
    static func mediaAddress(_ relay: HostPort, signaling: HostPort) -> TransportAddress? {
        let port = UInt16(clamping: relay.port)
        for host in [relay.host, signaling.host, "127.0.0.1"] where host != "0.0.0.0" {
            if let address = TransportAddress(ipv4: host == "localhost" ? "127.0.0.1" : host, port: port) { return address }
        }
        return nil
    }

    /// Asks the server's media port which address our packets come from (a STUN Binding),
    /// waiting at most half a second: a server that does not answer leaves us host-only.
    static func serverReflexiveAddress(socket: MediaSocket, server: TransportAddress) async -> TransportAddress? {
        var rng = SystemRandomNumberGenerator()
        let request = STUNMessage(method: .binding, messageClass: .request, transactionID: STUNMessage.randomTransactionID(using: &rng))
        let answer = Mutex<TransportAddress?>(nil)
        socket.setHandler { datagram in
            guard datagram.source == server, let m = try? STUNMessage(parsing: datagram.bytes),
                  m.transactionID == request.transactionID, m.messageClass == .success,
                  let mapped = try? m.address(.xorMappedAddress) else { return }
            answer.withLock { $0 = mapped }
        }
        defer { socket.setHandler(nil) }
        for _ in 0..<5 {
            socket.send(request.encoded(fingerprint: true), to: server)
            for _ in 0..<10 {
                try? await Task.sleep(for: .milliseconds(10))
                if let mapped = answer.withLock({ $0 }) { return mapped }
            }
        }
        return nil
    }
}
