import COpus
import Synchronization

/// Encodes Duet's 20 ms mono frames for a call: VOIP application, speech signal, in-band FEC
/// on, so a receiver can rebuild a lost frame from the one after it.
///
/// `@unchecked Sendable`: the libopus handle is created once, freed once in `deinit`, and
/// every other use goes through `lock`, so concurrent callers serialise rather than corrupt
/// it (a call uses one encoder from one task anyway).
public final class OpusEncoder: @unchecked Sendable {
    /// Encoder settings; the defaults are what Duet calls use.
    public struct Configuration: Sendable, Equatable {
        /// Bits per second. Calls run 24–32 kbit/s: wideband speech plus room for FEC.
        public var bitrate: Int = 28_000
        /// 0 (fastest) … 10 (best).
        public var complexity: Int = 10
        /// Expected loss; libopus spends more of the bitrate on FEC as this grows.
        public var packetLossPercentage: Int = 10
        public var inBandFEC: Bool = true

        public static let bitrateRange = 24_000...32_000
        public static let complexityRange = 0...10
        public static let packetLossRange = 0...100

        public init(bitrate: Int = 28_000, complexity: Int = 10, packetLossPercentage: Int = 10, inBandFEC: Bool = true) {
            self.bitrate = bitrate
            self.complexity = complexity
            self.packetLossPercentage = packetLossPercentage
            self.inBandFEC = inBandFEC
        }
    }

    /// Big enough for any single Opus frame (RFC 6716 caps a frame at 1275 bytes).
    private static let maxPacketBytes = 1500

    private let encoder: OpaquePointer
    private let lock = Mutex(())
    /// Samples of codec delay; an Ogg Opus file's pre-skip (RFC 7845 §8).
    public let lookahead: Int

    public init(configuration: Configuration = Configuration()) throws(OpusError) {
        var error: Int32 = OPUS_OK
        guard let encoder = opus_encoder_create(Int32(AudioFormat.sampleRate), Int32(AudioFormat.channels), OPUS_APPLICATION_VOIP, &error),
            error == OPUS_OK
        else { throw .library(operation: "opus_encoder_create", code: error == OPUS_OK ? OPUS_ALLOC_FAIL : error) }
        var delay: Int32 = 0
        do {
            // Synthetic voices are tonal; on auto, libopus may call them music and switch to CELT.
            try OpusError.check(duet_opus_set_signal_voice(encoder), "OPUS_SET_SIGNAL(VOICE)")
            try OpusError.check(duet_opus_set_dtx(encoder, 0), "OPUS_SET_DTX")
            try OpusError.check(duet_opus_get_lookahead(encoder, &delay), "OPUS_GET_LOOKAHEAD")
            try Self.apply(configuration, to: encoder)
        } catch {
            opus_encoder_destroy(encoder)
            throw error
        }
        lookahead = Int(delay)
        self.encoder = encoder
    }

    deinit {
        opus_encoder_destroy(encoder)
    }

    /// Changes settings mid-call, e.g. when the receiver reports more loss.
    public func reconfigure(_ configuration: Configuration) throws(OpusError) {
        try withEncoder { encoder throws(OpusError) in try Self.apply(configuration, to: encoder) }
    }

    /// The loss hint alone, the setting a call adjusts most often from receiver reports.
    public func setPacketLossPercentage(_ percentage: Int) throws(OpusError) {
        try Self.validate("packet loss percentage", percentage, Configuration.packetLossRange)
        _ = try withEncoder { encoder throws(OpusError) in
            try OpusError.check(duet_opus_set_packet_loss_perc(encoder, Int32(percentage)), "OPUS_SET_PACKET_LOSS_PERC")
        }
    }

    /// Encodes one 20 ms frame (960 samples) into one Opus packet.
    public func encode(_ frame: [Int16]) throws(OpusError) -> [UInt8] {
        try Self.checkFrame(frame.count)
        return try withEncoder { encoder throws(OpusError) in
            var packet = [UInt8](repeating: 0, count: Self.maxPacketBytes)
            let written = try OpusError.check(
                opus_encode(encoder, frame, Int32(frame.count), &packet, Int32(packet.count)), "opus_encode")
            packet.removeSubrange(written...)
            return packet
        }
    }

    /// Encodes one 20 ms frame of float samples in -1...1.
    public func encode(_ frame: [Float]) throws(OpusError) -> [UInt8] {
        try Self.checkFrame(frame.count)
        return try withEncoder { encoder throws(OpusError) in
            var packet = [UInt8](repeating: 0, count: Self.maxPacketBytes)
            let written = try OpusError.check(
                opus_encode_float(encoder, frame, Int32(frame.count), &packet, Int32(packet.count)), "opus_encode_float")
            packet.removeSubrange(written...)
            return packet
        }
    }

    /// The bitrate libopus is actually using (it may clamp what was asked).
    public func currentBitrate() throws(OpusError) -> Int {
        try withEncoder { encoder throws(OpusError) in
            var bps: Int32 = 0
            try OpusError.check(duet_opus_get_bitrate(encoder, &bps), "OPUS_GET_BITRATE")
            return Int(bps)
        }
    }

    private func withEncoder<T>(_ body: (OpaquePointer) throws(OpusError) -> T) throws(OpusError) -> T {
        try lock.withLock { _ throws(OpusError) in try body(encoder) }
    }

    private static func apply(_ c: Configuration, to encoder: OpaquePointer) throws(OpusError) {
        try validate("bitrate", c.bitrate, Configuration.bitrateRange)
        try validate("complexity", c.complexity, Configuration.complexityRange)
        try validate("packet loss percentage", c.packetLossPercentage, Configuration.packetLossRange)
        try OpusError.check(duet_opus_set_bitrate(encoder, Int32(c.bitrate)), "OPUS_SET_BITRATE")
        try OpusError.check(duet_opus_set_complexity(encoder, Int32(c.complexity)), "OPUS_SET_COMPLEXITY")
        try OpusError.check(duet_opus_set_inband_fec(encoder, c.inBandFEC ? 1 : 0), "OPUS_SET_INBAND_FEC")
        try OpusError.check(duet_opus_set_packet_loss_perc(encoder, Int32(c.packetLossPercentage)), "OPUS_SET_PACKET_LOSS_PERC")
    }

    private static func validate(_ name: String, _ value: Int, _ range: ClosedRange<Int>) throws(OpusError) {
        guard range.contains(value) else { throw .invalidSetting(name: name, value: value, allowed: range) }
    }

    private static func checkFrame(_ count: Int) throws(OpusError) {
        guard count == AudioFormat.samplesPerFrame else {
            throw .wrongFrameSize(expected: AudioFormat.samplesPerFrame, actual: count)
        }
    }
}
