import DuetClient
import DuetCrypto
import DuetWire
import Foundation

/// Relayed calls for `ForwardBench` and `RelayCoturnBench`: per call, a client socket with one
/// TURN allocation (made by `RelayClient`, the client code calls use, against Duet's relay or
/// coturn alike) and a channel to a peer's plain UDP socket. The generator sends both ways —
/// ChannelData from the client to the TURN server, plain datagrams from the peer to the relayed
/// address — and the receivers count what the relay delivers at the other end, checking a sample
/// is the payload the other side sent (unwrapped from ChannelData at the client).
final class RelayLoad: ForwardLoad {
    /// One relayed call once its channel is bound.
    private struct Call {
        let client: LoopbackSocket
        let peer: LoopbackSocket
        let relayed: TransportAddress
        let turn: RelayClient
    }

    /// The size of an SRTP packet carrying an SFrame'd Opus frame (RTP header, payload as
    /// `SFULoad`'s, AEAD tag), so relayed packets weigh what calls' packets weigh.
    static let payloadSize = 128

    let fanout = 1
    let receivers: ForwardReceivers
    let serverPorts: [Int]
    private let calls: [Call]
    private let server: TransportAddress

    private init(calls: [Call], server: TransportAddress) {
        self.calls = calls
        self.server = server
        serverPorts = [Int(server.port)] + calls.map { Int($0.relayed.port) }
        let turns = calls.map(\.turn), peers = calls.map(\.peer.address)
        receivers = ForwardReceivers(calls.map(\.client) + calls.map(\.peer)) { index, datagram in
            let bytes = Array(datagram)
            guard index >= turns.count else {
                // At a client: ChannelData from its call's peer, carrying what the peer sent.
                guard let (peer, payload) = turns[index].unwrap(bytes) else { return false }
                return peer == peers[index] && payload == RelayLoad.payload(call: index, fromClient: false)
            }
            return bytes == RelayLoad.payload(call: index - turns.count, fromClient: true)
        }
    }

    /// What a call's side sends: RTP-shaped (version 2, payload type 111), its call and
    /// direction in the SSRC, filled to `payloadSize`.
    static func payload(call: Int, fromClient: Bool) -> [UInt8] {
        let ssrc = UInt32(call) | (fromClient ? 0xC000_0000 : 0x9000_0000)
        var bytes: [UInt8] = [0x80, 111, 0, 1, 0, 0, 0, 0] + withUnsafeBytes(of: ssrc.bigEndian, Array.init)
        bytes += [UInt8](repeating: 0xA5, count: payloadSize - bytes.count)
        return bytes
    }

    /// `clients.count` calls through the TURN server at `server`, each client made from its
    /// credentials; throws unless every allocation and channel is up within 10 s.
    static func make(server: TransportAddress, clients: [RelayClient]) async throws -> RelayLoad {
        let sockets = try clients.map { _ in (client: try LoopbackSocket(), peer: try LoopbackSocket()) }
        let outcome = await onThread { allocate(clients, sockets.map(\.client), peers: sockets.map(\.peer.address), server: server) }
        switch outcome {
        case let .failure(error):
            throw error
        case let .success(made):
            let calls = made.indices.map {
                Call(client: sockets[$0].client, peer: sockets[$0].peer, relayed: made[$0].relayed, turn: made[$0].turn)
            }
            return RelayLoad(calls: calls, server: server)
        }
    }

    /// Runs every client's Allocate and ChannelBind at once (retransmissions by `tick`).
    /// Blocking: run `onThread`.
    private static func allocate(
        _ clients: [RelayClient], _ sockets: [LoopbackSocket], peers: [TransportAddress], server: TransportAddress
    ) -> Result<[(turn: RelayClient, relayed: TransportAddress)], CallSetupBench.BenchFailure> {
        var turns = clients
        var relayed = [TransportAddress?](repeating: nil, count: clients.count)
        var bound = Set<Int>()
        var failure: String?
        func perform(_ index: Int, _ actions: [RelayClient.Action], now: Double) {
            for action in actions {
                switch action {
                case let .send(bytes): sockets[index].send(bytes, to: server)
                case let .allocated(address, _):
                    relayed[index] = address
                    perform(index, turns[index].permit(peers[index], now: now), now: now)
                case .channelBound: bound.insert(index)
                case let .failed(reason): failure = failure ?? reason
                }
            }
        }
        for index in turns.indices {
            perform(index, turns[index].start(now: Date().timeIntervalSince1970), now: Date().timeIntervalSince1970)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while bound.count < turns.count, failure == nil, ContinuousClock.now < deadline {
            for index in LoopbackSocket.readable(sockets, milliseconds: 20) {
                while let datagram = sockets[index].receiveWithSender() {
                    let now = Date().timeIntervalSince1970
                    perform(index, turns[index].receive(datagram.bytes, now: now), now: now)
                }
            }
            let now = Date().timeIntervalSince1970
            for index in turns.indices where !bound.contains(index) { perform(index, turns[index].tick(now: now), now: now) }
        }
        guard failure == nil, bound.count == turns.count else {
            return .failure(
                .init("\(turns.count - bound.count) of \(turns.count) relay channels did not come up: \(failure ?? "no answer")"))
        }
        return .success(turns.indices.map { (turns[$0], relayed[$0]!) })
    }

    /// One flow per direction of every call: the client's ChannelData to the TURN server, the
    /// peer's datagram to the relayed address. The same bytes go again and again (a relay keeps
    /// no replay state), so `count` only says the load's size, not what to make.
    func flows(packets count: Int) throws -> [ForwardGenerator.Flow] {
        calls.indices.flatMap { index in
            let call = calls[index]
            return [
                ForwardGenerator.Flow(
                    socket: call.client, destination: server,
                    packets: [call.turn.wrap(Self.payload(call: index, fromClient: true), to: call.peer.address)], repeats: true),
                ForwardGenerator.Flow(
                    socket: call.peer, destination: call.relayed, packets: [Self.payload(call: index, fromClient: false)], repeats: true)
            ]
        }
    }
}
