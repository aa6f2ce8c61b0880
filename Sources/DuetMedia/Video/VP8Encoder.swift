import CVPX
import Synchronization

/// VP8 for calls, set as real-time video calls set it: one pass, no look-ahead, constant
/// bitrate with WebRTC's rate-control values (undershoot 100 %, overshoot 15 %, buffer
/// 500/600/1000 ms), cpu-used −6, error-resilient (a lost frame does not poison the
/// probability tables of the next), no frame dropping, and no periodic keyframe but a safety
/// one every `keyframeSeconds`; a keyframe on request (a receiver's PLI); three temporal
/// layers on request (`Configuration.temporalLayers`, for group calls).
///
/// `@unchecked Sendable`: the libvpx context is made once, destroyed once in `deinit`, and
/// every other use goes through `lock`.
public final class VP8Encoder: @unchecked Sendable {
    public struct Configuration: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var framesPerSecond: Int
        /// Bits per second the rate control aims for.
        public var bitrate: Int
        public var keyframeSeconds: Int
        /// Three temporal layers (L1T3) instead of one: a group call's SFU can then send a
        /// receiver that cannot keep up only every second or fourth frame.
        public var temporalLayers: Bool

        public static let bitrateRange = 30_000...2_000_000

        public init(
            width: Int = 160, height: Int = 120, framesPerSecond: Int = 15, bitrate: Int = 250_000, keyframeSeconds: Int = 5,
            temporalLayers: Bool = false
        ) {
            self.width = width
            self.height = height
            self.framesPerSecond = framesPerSecond
            self.bitrate = bitrate
            self.keyframeSeconds = keyframeSeconds
            self.temporalLayers = temporalLayers
        }
    }

    /// One encoded picture: a VP8 frame as RFC 7741 carries it.
    public struct EncodedFrame: Sendable, Equatable {
        public var bytes: [UInt8]
        public var isKeyframe: Bool
        /// Its RTP timestamp: 90 kHz ticks since the first frame.
        public var timestamp: UInt32
        /// Its temporal layer (0 without layers, or for a keyframe).
        public var temporalLayer: UInt8 = 0
        /// No other frame refers to it (layer 2 of L1T3): dropping it breaks nothing.
        public var discardable = false
        /// It refers only to the base layer: a receiver may start taking its layer here.
        public var layerSync = false
    }

    /// RTP's video clock (RFC 7741 §4.1).
    public static let clockRate = 90_000

    private let context: UnsafeMutablePointer<vpx_codec_ctx_t>
    private let lock: Mutex<State>
    public let configuration: Configuration

    private struct State {
        var settings: vpx_codec_enc_cfg_t
        var frames: Int64 = 0
        var keyframeWanted = false
        /// Where in the L1T3 period of 4 the next frame is (a keyframe starts it again).
        var layerPosition = 0
    }

    public init(configuration: Configuration = Configuration()) throws(VideoCodecError) {
        guard configuration.width > 0, configuration.height > 0, configuration.width % 2 == 0, configuration.height % 2 == 0 else {
            throw .invalidSetting(name: "frame size", value: configuration.width * 10_000 + configuration.height)
        }
        guard (1...60).contains(configuration.framesPerSecond) else {
            throw .invalidSetting(name: "fps", value: configuration.framesPerSecond)
        }
        guard Configuration.bitrateRange.contains(configuration.bitrate) else {
            throw .invalidSetting(name: "bitrate", value: configuration.bitrate)
        }
        self.configuration = configuration
        context = .allocate(capacity: 1)
        context.initialize(to: vpx_codec_ctx_t())
        var settings = vpx_codec_enc_cfg_t()
        do {
            try VideoCodecError.check(duet_vpx_vp8_encoder_defaults(&settings), "vpx_codec_enc_config_default", context)
            Self.apply(configuration, to: &settings)
            if configuration.temporalLayers { duet_vpx_set_l1t3(&settings) }
            try VideoCodecError.check(duet_vpx_vp8_encoder_init(context, &settings), "vpx_codec_enc_init", context)
        } catch {
            context.deallocate()
            throw error
        }
        let controls: [(vp8e_enc_control_id, Int32, String)] = [
            (VP8E_SET_CPUUSED, -6, "VP8E_SET_CPUUSED"),
            (VP8E_SET_NOISE_SENSITIVITY, 0, "VP8E_SET_NOISE_SENSITIVITY"),
            (VP8E_SET_TOKEN_PARTITIONS, Int32(VP8_ONE_TOKENPARTITION.rawValue), "VP8E_SET_TOKEN_PARTITIONS"),
            // A keyframe may take three frames' worth of bits: sharp after a PLI without a burst.
            (VP8E_SET_MAX_INTRA_BITRATE_PCT, 300, "VP8E_SET_MAX_INTRA_BITRATE_PCT")
        ]
        do {
            for (control, value, name) in controls {
                try VideoCodecError.check(duet_vpx_control_int(context, Int32(control.rawValue), value), name, context)
            }
        } catch {
            vpx_codec_destroy(context)
            context.deallocate()
            throw error
        }
        lock = Mutex(State(settings: settings))
    }

    deinit {
        vpx_codec_destroy(context)
        context.deallocate()
    }

    private static func apply(_ configuration: Configuration, to settings: inout vpx_codec_enc_cfg_t) {
        settings.g_w = UInt32(configuration.width)
        settings.g_h = UInt32(configuration.height)
        settings.g_timebase = vpx_rational(num: 1, den: Int32(clockRate))
        settings.g_threads = 1
        settings.g_pass = VPX_RC_ONE_PASS
        settings.g_lag_in_frames = 0
        settings.g_error_resilient = vpx_codec_er_flags_t(VPX_ERROR_RESILIENT_DEFAULT)
        settings.rc_end_usage = VPX_CBR
        settings.rc_target_bitrate = UInt32(configuration.bitrate / 1000)
        settings.rc_dropframe_thresh = 0
        settings.rc_undershoot_pct = 100
        settings.rc_overshoot_pct = 15
        settings.rc_buf_initial_sz = 500
        settings.rc_buf_optimal_sz = 600
        settings.rc_buf_sz = 1000
        settings.rc_min_quantizer = 2
        settings.rc_max_quantizer = 56
        settings.kf_mode = VPX_KF_AUTO
        settings.kf_min_dist = 0
        settings.kf_max_dist = UInt32(configuration.keyframeSeconds * configuration.framesPerSecond)
    }

    /// The temporal layer of each frame of the L1T3 period.
    static let layerPattern: [UInt8] = [0, 2, 1, 2]

    /// The next frame is a keyframe (a receiver asked with a PLI, or one joined).
    public func requestKeyframe() {
        lock.withLock { $0.keyframeWanted = true }
    }

    /// The bitrate the rate control aims for from the next frame on.
    public func setBitrate(_ bitrate: Int) throws(VideoCodecError) {
        guard Configuration.bitrateRange.contains(bitrate) else { throw .invalidSetting(name: "bitrate", value: bitrate) }
        try lock.withLock { (state) throws(VideoCodecError) in
            state.settings.rc_target_bitrate = UInt32(bitrate / 1000)
            if configuration.temporalLayers { duet_vpx_set_l1t3(&state.settings) }
            try VideoCodecError.check(vpx_codec_enc_config_set(context, &state.settings), "vpx_codec_enc_config_set", context)
        }
    }

    /// The bitrate aimed for now, in bits per second.
    public var bitrate: Int { lock.withLock { Int($0.settings.rc_target_bitrate) * 1000 } }

    /// Encodes the next picture; one frame out (none only if libvpx holds it, which it does not
    /// without look-ahead).
    public func encode(_ frame: VideoFrame) throws(VideoCodecError) -> [EncodedFrame] {
        guard frame.width == configuration.width, frame.height == configuration.height else {
            throw .wrongFrameSize(expected: "\(configuration.width)×\(configuration.height)", actual: "\(frame.width)×\(frame.height)")
        }
        return try lock.withLock { (state) throws(VideoCodecError) in
            var planes = frame.y + frame.u + frame.v
            let step = Int64(Self.clockRate / configuration.framesPerSecond)
            let pts = state.frames * step
            if state.keyframeWanted { state.layerPosition = 0 }
            let layer = Self.layerPattern[state.layerPosition]
            var flags = state.keyframeWanted ? duet_vpx_force_keyframe() : 0
            if configuration.temporalLayers {
                flags |= duet_vpx_l1t3_flags(Int32(state.layerPosition))
                try VideoCodecError.check(duet_vpx_set_temporal_layer(context, Int32(layer)), "VP8E_SET_TEMPORAL_LAYER_ID", context)
                state.layerPosition = (state.layerPosition + 1) % Self.layerPattern.count
            }
            state.keyframeWanted = false
            state.frames += 1
            try planes.withUnsafeMutableBufferPointer { (buffer) throws(VideoCodecError) in
                var image = vpx_image_t()
                guard vpx_img_wrap(&image, VPX_IMG_FMT_I420, UInt32(frame.width), UInt32(frame.height), 1, buffer.baseAddress) != nil else {
                    throw .library(operation: "vpx_img_wrap", code: Int32(VPX_CODEC_INVALID_PARAM.rawValue), detail: "")
                }
                try VideoCodecError.check(
                    vpx_codec_encode(context, &image, pts, UInt(step), flags, duet_vpx_realtime()), "vpx_codec_encode", context)
            }
            var frames: [EncodedFrame] = []
            var iterator: vpx_codec_iter_t?
            while let packet = vpx_codec_get_cx_data(context, &iterator) {
                guard packet.pointee.kind == VPX_CODEC_CX_FRAME_PKT else { continue }
                let data = packet.pointee.data.frame
                let bytes = Array(UnsafeRawBufferPointer(start: data.buf, count: data.sz))
                let isKeyframe = data.flags & duet_vpx_frame_is_key() != 0
                let tid = configuration.temporalLayers && !isKeyframe ? layer : 0
                // Any keyframe (libvpx's own safety ones too) starts the layer period again.
                if isKeyframe, configuration.temporalLayers { state.layerPosition = 1 }
                frames.append(
                    EncodedFrame(
                        bytes: bytes, isKeyframe: isKeyframe, timestamp: UInt32(truncatingIfNeeded: data.pts), temporalLayer: tid,
                        discardable: tid == 2, layerSync: tid == 1))
            }
            return frames
        }
    }
}
