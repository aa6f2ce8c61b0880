import DuetMedia
import Testing

@Suite("Voice over a lossy network")
struct VoiceLossyNetworkTests {
    /// 10 % loss and 5 % reordering (seeded), through the jitter buffer and FEC/PLC: the
    /// receiver still knows who is talking.
    @Test func voiceIsStillNamedThroughLossReorderingAndConcealment() throws {
        let frames = 250
        let encoder = try OpusEncoder(configuration: .init(packetLossPercentage: 10))
        let packets = try VoicePipeline.packets(number: TestNumbers.alice, frames: frames, encoder: encoder)

        var random = SeededRandom(seed: 2024)
        var network = JitterSimulation()
        var dropped = 0
        var reordered = 0
        for (seq, packet) in packets.enumerated() {
            if Double.random(in: 0..<1, using: &random) < 0.10 {
                dropped += 1
                continue
            }
            // A reordered packet arrives after the one sent 20 ms later.
            let late = Double.random(in: 0..<1, using: &random) < 0.05
            if late { reordered += 1 }
            network.send(seq, delayMs: 30 + Int.random(in: 0...5, using: &random) + (late ? 25 : 0), payload: packet)
        }

        var buffer = JitterBuffer()
        let pulled = network.play(through: &buffer, untilMs: frames * 20 + 300)
        let decoder = try OpusDecoder()
        var audio: [Int16] = []
        var started = false
        var recoveredByFEC = 0
        var concealed = 0
        for frame in pulled {
            switch frame {
            case let .packet(payload):
                started = true
                audio += try decoder.decode(payload)
            case let .missing(next?):
                audio += try decoder.recoverWithFEC(nextPacket: next)
                recoveredByFEC += 1
            case .missing(nil):
                audio += try decoder.concealLoss()
                concealed += 1
            case .notReady:
                if started { audio += try decoder.concealLoss() }
            }
        }

        let stats = buffer.statistics
        #expect(dropped > 10 && reordered > 3, "the seed must exercise loss (\(dropped)) and reordering (\(reordered))")
        #expect(stats.lost == dropped)
        #expect(stats.received == frames - dropped)
        #expect(stats.concealed == recoveredByFEC + concealed)
        #expect(recoveredByFEC > 0, "FEC path never taken")
        #expect(stats.played + stats.concealed + stats.skipped >= frames - 5)

        let analysis = VoiceAnalyser(numbers: [TestNumbers.alice, TestNumbers.bob]).analyse(audio)
        #expect(analysis.speaker == VoiceSignature(number: TestNumbers.alice), "\(analysis)")
    }
}
