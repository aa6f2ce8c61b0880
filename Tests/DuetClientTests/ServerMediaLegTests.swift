import DuetMedia
import DuetWire
import Testing

@testable import DuetClient

/// The leg to the SFU on its own (the engines' use of it is tested with real servers in
/// DuetServerTests and across namespaced hosts in duetTests).
@Suite("Server media leg")
struct ServerMediaLegTests {
    /// A handshake nobody answers, once its retransmissions are spent, asks for a successor
    /// instead of leaving the leg silent for the rest of the call; the successor goes to the same
    /// media port (the SSRC stays with the engine's pump: `MediaPumpTests`).
    @Test func aHandshakeThatFinallyFailsAsksForASuccessor() async throws {
        let silent = try await MediaSocket.bind()  // a "media port" that never answers
        defer { silent.close() }
        let media = TransportAddress(ip: [127, 0, 0, 1], port: silent.localAddress.port)
        let leg = try ServerMediaLeg(
            socket: try await MediaSocket.bind(), media: media, certificate: DTLSCertificate(),
            serverFingerprint: DTLSCertificate().fingerprint, handshakeRetransmissions: 1)
        defer { leg.close() }
        leg.deliver(to: DatagramInbox())
        #expect(leg.start() == nil)
        var reason: String?
        let deadline = ContinuousClock.now + .seconds(10)
        while reason == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            for case let .rebuild(why) in leg.tick() { reason = why }
        }
        #expect(reason?.contains("DTLS handshake failed") == true, "\(reason ?? "no rebuild asked for")")
        let next = try leg.successor(on: try await MediaSocket.bind())
        defer { next.close() }
        #expect(next.media == media && !next.isConnected)
    }
}
