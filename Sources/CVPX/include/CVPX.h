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
#endif
