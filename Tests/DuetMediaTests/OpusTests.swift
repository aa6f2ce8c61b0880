import COpus
import DuetMedia
import Testing

@Suite("Opus")
struct OpusTests {
    @Test func voiceSurvivesARoundTripAndIsNamed() throws {
        let analyser = VoiceAnalyser(numbers: [TestNumbers.alice, TestNumbers.bob])
        for number in [TestNumbers.alice, TestNumbers.bob] {
            var voice = SyntheticVoice(number: number)
            let decoded = try VoicePipeline.roundTrip(&voice, frames: 100)
            #expect(decoded.count == 100 * 960)
            let analysis = analyser.analyse(decoded)
            #expect(analysis.speaker == VoiceSignature(number: number), "\(number): \(analysis)")
        }
    }

    /// The hardest case for the analyser: neighbouring pitch slots, after the codec.
    @Test func everySlotIsToldApartFromItsNeighboursAfterOpus() throws {
        let signatures = (0..<VoiceSignature.slotCount).map { slot in
            (0..<1000).lazy.map { VoiceSignature(number: "+1555\(2000 + $0)") }.first { $0.slot == slot }!
        }
        let analyser = VoiceAnalyser(candidates: signatures)
        for signature in signatures {
            var voice = SyntheticVoice(signature: signature)
            let analysis = analyser.analyse(try VoicePipeline.roundTrip(&voice, frames: 60))
            #expect(analysis.speaker == signature, "slot \(signature.slot): \(analysis)")
        }
    }

    @Test func silenceAndNoiseAfterOpusAreNobody() throws {
        let analyser = VoiceAnalyser(numbers: [TestNumbers.alice, TestNumbers.bob])
        var silence = SilenceSource()
        let quiet = analyser.analyse(try VoicePipeline.roundTrip(&silence, frames: 50))
        #expect(quiet.isSilent && quiet.speaker == nil, "\(quiet)")
        var noise = NoiseSource(seed: 5)
        let hiss = analyser.analyse(try VoicePipeline.roundTrip(&noise, frames: 100))
        #expect(!hiss.isSilent && hiss.speaker == nil, "\(hiss)")
    }

    /// OPUS_SIGNAL_VOICE keeps synthetic voices on the speech path: SILK-only (configs 0–11)
    /// or hybrid (12–15), never CELT-only (16–31), per the TOC byte (RFC 6716 §3.1).
    @Test func voiceIsEncodedOnTheSpeechPath() throws {
        let packets = try VoicePipeline.packets(number: TestNumbers.alice, frames: 100)
        let configs = packets.map { $0[0] >> 3 }
        #expect(configs.allSatisfy { $0 < 16 }, "TOC configs \(Set(configs))")
        let bytes = packets.reduce(0) { $0 + $1.count }
        let kbps = Double(bytes * 8) / 2.0 / 1000
        #expect(kbps > 10 && kbps < 40, "\(kbps) kbit/s")
    }

    @Test func defaultsAreDuetsCallSettings() throws {
        let encoder = try OpusEncoder()
        #expect(try encoder.currentBitrate() == 28_000)
        #expect(encoder.lookahead == 312)
        #expect(OpusEncoder.Configuration().inBandFEC)
    }

    @Test func emptyPacketsAreRefusedNotConcealed() throws {
        let decoder = try OpusDecoder()
        #expect(throws: OpusError.emptyPacket) { try decoder.decode([]) }
        #expect(throws: OpusError.emptyPacket) { try decoder.recoverWithFEC(nextPacket: []) }
    }

    @Test func garbageIsATypedErrorWithLibopusWording() throws {
        let decoder = try OpusDecoder()
        let error = #expect(throws: OpusError.self) { try decoder.decode([0xFF, 0xFF, 0xFF]) }
        #expect(error == .library(operation: "opus_decode", code: OPUS_INVALID_PACKET))
        #expect(error?.description.contains("corrupted stream") == true)
        #expect(error?.description.contains("OPUS_INVALID_PACKET") == true)
        // The decoder still works after refusing garbage.
        let packet = try VoicePipeline.packets(number: TestNumbers.alice, frames: 1)[0]
        #expect(try decoder.decode(packet).count == 960)
    }

    @Test func badSettingsAndFrameSizesAreRefused() throws {
        #expect(throws: OpusError.invalidSetting(name: "bitrate", value: 64_000, allowed: 24_000...32_000)) {
            try OpusEncoder(configuration: .init(bitrate: 64_000))
        }
        let encoder = try OpusEncoder()
        #expect(throws: OpusError.wrongFrameSize(expected: 960, actual: 480)) { try encoder.encode([Int16](repeating: 0, count: 480)) }
        #expect(throws: OpusError.invalidSetting(name: "packet loss percentage", value: 101, allowed: 0...100)) {
            try encoder.setPacketLossPercentage(101)
        }
        try encoder.reconfigure(.init(bitrate: 24_000, complexity: 5, packetLossPercentage: 20))
        #expect(try encoder.currentBitrate() == 24_000)
        let decoder = try OpusDecoder()
        #expect(throws: OpusError.self) { try decoder.concealLoss(samples: 100) }
    }

    @Test func concealmentProducesAFrame() throws {
        let decoder = try OpusDecoder()
        for packet in try VoicePipeline.packets(number: TestNumbers.alice, frames: 10) { _ = try decoder.decode(packet) }
        #expect(try decoder.concealLoss().count == 960)
        #expect(try decoder.lastPacketDuration() == 960)
    }

    /// In-band FEC must rebuild a lost frame closer to the original than concealment guesses it.
    @Test func fecRecoversLostFramesBetterThanConcealment() throws {
        let packets = try VoicePipeline.packets(number: TestNumbers.alice, frames: 150)
        let reference = try OpusDecoder()
        let frames = try packets.map { try reference.decode($0) }

        let lost = Set(stride(from: 12, to: 148, by: 9))
        var fecError = 0.0
        var plcError = 0.0
        var recoveredDiffers = 0
        let withFEC = try OpusDecoder()
        let withPLC = try OpusDecoder()
        for (index, packet) in packets.enumerated() {
            if lost.contains(index) {
                let recovered = try withFEC.recoverWithFEC(nextPacket: packets[index + 1])
                let concealed = try withPLC.concealLoss()
                fecError += squaredError(recovered, frames[index])
                plcError += squaredError(concealed, frames[index])
                if recovered != concealed { recoveredDiffers += 1 }
            } else {
                _ = try withFEC.decode(packet)
                _ = try withPLC.decode(packet)
            }
        }
        #expect(recoveredDiffers > lost.count / 2, "FEC data was used for \(recoveredDiffers) of \(lost.count) frames")
        #expect(fecError < plcError / 2, "FEC error \(fecError), PLC error \(plcError)")
    }

    /// The control for the test above: without FEC in the stream, "recovery" is only concealment.
    @Test func withoutFECInTheStreamRecoveryIsJustConcealment() throws {
        let encoder = try OpusEncoder(configuration: .init(packetLossPercentage: 0, inBandFEC: false))
        let packets = try VoicePipeline.packets(number: TestNumbers.alice, frames: 40, encoder: encoder)
        let withFEC = try OpusDecoder()
        let withPLC = try OpusDecoder()
        for packet in packets.prefix(30) {
            _ = try withFEC.decode(packet)
            _ = try withPLC.decode(packet)
        }
        #expect(try withFEC.recoverWithFEC(nextPacket: packets[31]) == withPLC.concealLoss())
    }

    private func squaredError(_ a: [Int16], _ b: [Int16]) -> Double {
        zip(a, b).reduce(0) { $0 + pow2(Double($1.0) - Double($1.1)) }
    }

    private func pow2(_ x: Double) -> Double { x * x }
}
