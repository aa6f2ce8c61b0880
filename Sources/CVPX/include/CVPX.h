// libvpx's VP8, owned by DuetMedia's VP8Encoder/VP8Decoder wrappers.
//
// vpx_codec_enc_init and vpx_codec_dec_init are macros (they pass the ABI version), and
// vpx_codec_control is a variadic macro over typed controls; Swift can call neither. The
// flags Duet passes are macros too. Each gets a typed static inline shim here.
#ifndef DUET_CVPX_H
#define DUET_CVPX_H
#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

static inline vpx_codec_err_t duet_vpx_vp8_encoder_defaults(vpx_codec_enc_cfg_t *cfg) {
    return vpx_codec_enc_config_default(vpx_codec_vp8_cx(), cfg, 0);
}
static inline vpx_codec_err_t duet_vpx_vp8_encoder_init(vpx_codec_ctx_t *ctx, const vpx_codec_enc_cfg_t *cfg) {
    return vpx_codec_enc_init(ctx, vpx_codec_vp8_cx(), cfg, 0);
}
static inline vpx_codec_err_t duet_vpx_vp8_decoder_init(vpx_codec_ctx_t *ctx) {
    vpx_codec_dec_cfg_t cfg = { .threads = 1, .w = 0, .h = 0 };
    return vpx_codec_dec_init(ctx, vpx_codec_vp8_dx(), &cfg, 0);
}
static inline vpx_codec_err_t duet_vpx_control_int(vpx_codec_ctx_t *ctx, int control, int value) {
    return vpx_codec_control_(ctx, control, value);
}
static inline vpx_codec_err_t duet_vpx_control_uint(vpx_codec_ctx_t *ctx, int control, unsigned int value) {
    return vpx_codec_control_(ctx, control, value);
}
static inline vpx_enc_frame_flags_t duet_vpx_force_keyframe(void) { return VPX_EFLAG_FORCE_KF; }
static inline unsigned long duet_vpx_realtime(void) { return VPX_DL_REALTIME; }
static inline vpx_codec_frame_flags_t duet_vpx_frame_is_key(void) { return VPX_FRAME_IS_KEY; }

// Three temporal layers (L1T3, as WebRTC's VP8 for group calls): a period of 4 frames with
// layers 0 2 1 2; layer 0 at a quarter of the rate, layers 0-1 at half. The cumulative
// bitrates are 40 %, 60 % and 100 % of the target (kbit/s). The arrays are fixed C arrays,
// which Swift sees as tuples: set here.
static inline void duet_vpx_set_l1t3(vpx_codec_enc_cfg_t *cfg) {
    unsigned int kbps = cfg->rc_target_bitrate;
    cfg->ts_number_layers = 3;
    cfg->ts_target_bitrate[0] = kbps * 40 / 100;
    cfg->ts_target_bitrate[1] = kbps * 60 / 100;
    cfg->ts_target_bitrate[2] = kbps;
    cfg->ts_rate_decimator[0] = 4;
    cfg->ts_rate_decimator[1] = 2;
    cfg->ts_rate_decimator[2] = 1;
    cfg->ts_periodicity = 4;
    cfg->ts_layer_id[0] = 0;
    cfg->ts_layer_id[1] = 2;
    cfg->ts_layer_id[2] = 1;
    cfg->ts_layer_id[3] = 2;
}
// Which references frame `position` (0-3) of the L1T3 period may use and update: layer 0
// refers to and updates LAST only; layer 1 refers to LAST and updates GOLDEN; layer 2 refers
// to LAST and GOLDEN and updates nothing, so no frame needs it.
static inline vpx_enc_frame_flags_t duet_vpx_l1t3_flags(int position) {
    switch (position & 3) {
    case 0: return VP8_EFLAG_NO_REF_GF | VP8_EFLAG_NO_REF_ARF | VP8_EFLAG_NO_UPD_GF | VP8_EFLAG_NO_UPD_ARF;
    case 2: return VP8_EFLAG_NO_REF_GF | VP8_EFLAG_NO_REF_ARF | VP8_EFLAG_NO_UPD_LAST | VP8_EFLAG_NO_UPD_ARF;
    default: return VP8_EFLAG_NO_REF_ARF | VP8_EFLAG_NO_UPD_LAST | VP8_EFLAG_NO_UPD_GF | VP8_EFLAG_NO_UPD_ARF;
    }
}
static inline vpx_codec_err_t duet_vpx_set_temporal_layer(vpx_codec_ctx_t *ctx, int layer) {
    return vpx_codec_control_(ctx, VP8E_SET_TEMPORAL_LAYER_ID, layer);
}
#endif
