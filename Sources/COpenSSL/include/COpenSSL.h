// OpenSSL 3.0, used only for DTLS-SRTP handshakes (DESIGN §1): TLS on the signaling port
// goes through swift-nio-ssl instead.
//
// Several controls are macros over SSL_ctrl/SSL_CTX_ctrl and get static inline shims.
#ifndef DUET_COPENSSL_H
#define DUET_COPENSSL_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/bio.h>

static inline long duet_ssl_set_mtu(SSL *ssl, long mtu) { return SSL_set_mtu(ssl, mtu); }
static inline long duet_dtls_get_timeout(SSL *ssl, struct timeval *tv) { return DTLSv1_get_timeout(ssl, tv); }
static inline long duet_dtls_handle_timeout(SSL *ssl) { return DTLSv1_handle_timeout(ssl); }
static inline long duet_bio_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }
#endif
