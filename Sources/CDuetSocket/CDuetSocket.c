#define _GNU_SOURCE
#include "CDuetSocket.h"

#include <assert.h>
#include <string.h>

static_assert(sizeof(duet_mmsghdr) == sizeof(struct mmsghdr), "duet_mmsghdr must match struct mmsghdr");
static_assert(offsetof(duet_mmsghdr, length) == offsetof(struct mmsghdr, msg_len), "duet_mmsghdr must match struct mmsghdr");

int duet_recvmmsg(int descriptor, duet_mmsghdr *messages, unsigned int count, int flags) {
    return recvmmsg(descriptor, (struct mmsghdr *)messages, count, flags, NULL);
}

int duet_sendmmsg(int descriptor, duet_mmsghdr *messages, unsigned int count, int flags) {
    return sendmmsg(descriptor, (struct mmsghdr *)messages, count, flags);
}

size_t duet_packet_info_space(void) {
    size_t v4 = CMSG_SPACE(sizeof(struct in_pktinfo)), v6 = CMSG_SPACE(sizeof(struct in6_pktinfo));
    return v4 + v6;
}

int duet_enable_packet_info(int descriptor, int ipv6) {
    int on = 1;
    if (ipv6 && setsockopt(descriptor, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) != 0) return -1;
    // On an IPv6 socket this reports IPv4 datagrams' destinations too; not every kernel takes it there.
    if (setsockopt(descriptor, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) != 0 && !ipv6) return -1;
    return 0;
}

int duet_packet_destination(const struct msghdr *message, uint8_t address[16]) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)message); c != NULL; c = CMSG_NXTHDR((struct msghdr *)message, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof(info));
            memcpy(address, &info.ipi_addr, 4);
            return 4;
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof(info));
            memcpy(address, &info.ipi6_addr, 16);
            return 16;
        }
    }
    return 0;
}
