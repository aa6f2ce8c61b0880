// libsrtp2 (Debian 12 ships 2.5.0), owned by DuetMedia's SRTPSession.
#ifndef DUET_CSRTP_H
#define DUET_CSRTP_H
#include <srtp2/srtp.h>
#endif
