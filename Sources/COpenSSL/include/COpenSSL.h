// OpenSSL 3.0, used only for DTLS-SRTP handshakes: TLS on the signaling port
// goes through swift-nio-ssl instead.
//
// Several controls are macros over SSL_ctrl/SSL_CTX_ctrl, and a few calls are variadic or
// have return conventions worth naming; each gets a static inline shim below (a system
// library target compiles no .c file). Shims keep OpenSSL's own return values: the Swift
// side decides what is success.
#ifndef DUET_COPENSSL_H
#define DUET_COPENSSL_H
#include <openssl/ssl.h>
#include <openssl/srtp.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/bio.h>

static inline long duet_ssl_set_mtu(SSL *ssl, long mtu) { return SSL_set_mtu(ssl, mtu); }
static inline long duet_dtls_get_timeout(SSL *ssl, struct timeval *tv) { return DTLSv1_get_timeout(ssl, tv); }
static inline long duet_dtls_handle_timeout(SSL *ssl) { return DTLSv1_handle_timeout(ssl); }
static inline long duet_bio_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }

// DTLS_set_link_mtu is a macro; with memory BIOs OpenSSL cannot ask the kernel for the path
// MTU, so the endpoint sets the link MTU itself (and SSL_OP_NO_QUERY_MTU, a macro built on
// SSL_OP_BIT that Swift does not import).
static inline long duet_dtls_set_link_mtu(SSL *ssl, long mtu) { return DTLS_set_link_mtu(ssl, mtu); }
static inline uint64_t duet_ssl_op_no_query_mtu(void) { return SSL_OP_NO_QUERY_MTU; }

// Pins both ends of the version range to DTLS 1.2 (macros over SSL_CTX_ctrl; 1 = success).
static inline long duet_ssl_ctx_set_dtls12_only(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION)
        && SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
}

// SSL_CTX_set_tlsext_use_srtp returns 0 on SUCCESS and 1 on error (inverted against most of
// OpenSSL). This shim returns 1 on success so the Swift side reads like every other call.
static inline int duet_ssl_ctx_use_srtp_ok(SSL_CTX *ctx, const char *profiles) {
    return SSL_CTX_set_tlsext_use_srtp(ctx, profiles) == 0 ? 1 : 0;
}

// EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen, which Swift cannot call.
static inline EVP_PKEY *duet_evp_ec_p256_generate(void) { return EVP_EC_gen("P-256"); }

// MBSTRING_ASC is an expression macro; named here so the Swift side need not restate it.
static inline int duet_mbstring_asc(void) { return MBSTRING_ASC; }

// Pending bytes in a memory BIO (BIO_ctrl_pending is a function, BIO_pending a macro).
static inline size_t duet_bio_pending(BIO *b) { return BIO_ctrl_pending(b); }

// BIO_reset is a macro over BIO_ctrl: empties a memory BIO (1 = success). The hello verifier
// starts every stranger's datagram on empty BIOs, so nothing from one sender reaches another.
static inline int duet_bio_reset(BIO *b) { return (int)BIO_reset(b); }
#endif
