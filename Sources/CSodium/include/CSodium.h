// libsodium, reached only through DuetCrypto's wrappers (and DuetMedia's SFrame AEAD).
#ifndef DUET_CSODIUM_H
#define DUET_CSODIUM_H
#include <sodium.h>
#endif
