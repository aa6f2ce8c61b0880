import COpus
import Synchronization

/// Decodes a call's Opus packets back to 48 kHz mono PCM and fills the gaps a lossy network
/// leaves: `concealLoss()` (PLC) when nothing is known about a frame, `recoverWithFEC` when
/// the next packet has arrived and carries a low-bitrate copy of the lost one.
///
/// `@unchecked Sendable`: the libopus handle is created once, freed once in `deinit`, and
/// every other use goes through `lock`.
public final class OpusDecoder: @unchecked Sendable {
    /// The longest packet Opus allows is 120 ms.
    private static let maxFrameSamples = AudioFormat.sampleRate * 120 / 1000

    private let decoder: OpaquePointer
    private let lock = Mutex(())

    public init() throws(OpusError) {
        var error: Int32 = OPUS_OK
        guard let decoder = opus_decoder_create(Int32(AudioFormat.sampleRate), Int32(AudioFormat.channels), &error),
            error == OPUS_OK
        else { throw .library(operation: "opus_decoder_create", code: error == OPUS_OK ? OPUS_ALLOC_FAIL : error) }
        self.decoder = decoder
    }

    deinit {
        opus_decoder_destroy(decoder)
    }

    /// Decodes one packet (normally 960 samples). Throws rather than concealing on an empty
    /// or corrupt packet, so a bug upstream is not heard as a smooth gap.
    public func decode(_ packet: [UInt8]) throws(OpusError) -> [Int16] {
        guard !packet.isEmpty else { throw .emptyPacket }
        return try run("opus_decode", capacity: Self.maxFrameSamples) { decoder, pcm, capacity in
            opus_decode(decoder, packet, Int32(packet.count), pcm, capacity, 0)
        }
    }

    /// Packet-loss concealment for one missing frame: libopus extrapolates from what it last decoded.
    public func concealLoss(samples: Int = AudioFormat.samplesPerFrame) throws(OpusError) -> [Int16] {
        try checkLostFrame(samples)
        return try run("opus_decode (PLC)", capacity: samples) { decoder, pcm, capacity in
            opus_decode(decoder, nil, 0, pcm, capacity, 0)
        }
    }

    /// Rebuilds the frame before `nextPacket` from the in-band FEC (LBRR) data it carries.
    /// If the encoder put no FEC in it, libopus falls back to concealment. Decode `nextPacket`
    /// itself normally afterwards.
    public func recoverWithFEC(nextPacket: [UInt8], samples: Int = AudioFormat.samplesPerFrame) throws(OpusError) -> [Int16] {
        guard !nextPacket.isEmpty else { throw .emptyPacket }
        try checkLostFrame(samples)
        return try run("opus_decode (FEC)", capacity: samples) { decoder, pcm, capacity in
            opus_decode(decoder, nextPacket, Int32(nextPacket.count), pcm, capacity, 1)
        }
    }

    /// Samples in the last packet decoded, concealed or recovered.
    public func lastPacketDuration() throws(OpusError) -> Int {
        try lock.withLock { _ throws(OpusError) in
            var samples: Int32 = 0
            try OpusError.check(duet_opus_decoder_get_last_packet_duration(decoder, &samples), "OPUS_GET_LAST_PACKET_DURATION")
            return Int(samples)
        }
    }

    /// PLC and FEC must be asked for a whole number of 2.5 ms blocks.
    private func checkLostFrame(_ samples: Int) throws(OpusError) {
        let block = AudioFormat.sampleRate / 400
        guard samples > 0, samples <= Self.maxFrameSamples, samples % block == 0 else {
            throw .wrongFrameSize(expected: AudioFormat.samplesPerFrame, actual: samples)
        }
    }

    private func run(
        _ operation: String, capacity: Int,
        _ call: (OpaquePointer, UnsafeMutablePointer<Int16>, Int32) -> Int32
    ) throws(OpusError) -> [Int16] {
        var pcm = [Int16](repeating: 0, count: capacity)
        let produced = lock.withLock { _ in
            pcm.withUnsafeMutableBufferPointer { call(decoder, $0.baseAddress!, Int32(capacity)) }
        }
        let count = try OpusError.check(produced, operation)
        pcm.removeSubrange(count...)
        return pcm
    }
}
