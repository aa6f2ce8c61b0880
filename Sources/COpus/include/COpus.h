// libopus, owned by DuetMedia's OpusEncoder/OpusDecoder wrappers.
//
// opus_encoder_ctl and opus_decoder_ctl are variadic and their requests are macros
// (OPUS_SET_BITRATE(x) expands to a request id plus a type-checked argument), neither of
// which Swift can call. Each request Duet uses gets a typed static inline shim here.
#ifndef DUET_COPUS_H
#define DUET_COPUS_H
#include <opus.h>

static inline int duet_opus_set_bitrate(OpusEncoder *e, opus_int32 bps) { return opus_encoder_ctl(e, OPUS_SET_BITRATE(bps)); }
static inline int duet_opus_set_complexity(OpusEncoder *e, opus_int32 c) { return opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(c)); }
static inline int duet_opus_set_inband_fec(OpusEncoder *e, opus_int32 on) { return opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(on)); }
static inline int duet_opus_set_packet_loss_perc(OpusEncoder *e, opus_int32 pct) { return opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(pct)); }
static inline int duet_opus_set_signal_voice(OpusEncoder *e) { return opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)); }
static inline int duet_opus_set_dtx(OpusEncoder *e, opus_int32 on) { return opus_encoder_ctl(e, OPUS_SET_DTX(on)); }
static inline int duet_opus_get_bitrate(OpusEncoder *e, opus_int32 *bps) { return opus_encoder_ctl(e, OPUS_GET_BITRATE(bps)); }
static inline int duet_opus_get_lookahead(OpusEncoder *e, opus_int32 *samples) { return opus_encoder_ctl(e, OPUS_GET_LOOKAHEAD(samples)); }
static inline int duet_opus_decoder_get_last_packet_duration(OpusDecoder *d, opus_int32 *samples) { return opus_decoder_ctl(d, OPUS_GET_LAST_PACKET_DURATION(samples)); }
#endif
