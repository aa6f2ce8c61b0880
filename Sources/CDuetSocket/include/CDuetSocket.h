#ifndef C_DUET_SOCKET_H
#define C_DUET_SOCKET_H

// Why this shim exists: the server's media port reads and writes datagrams in batches below
// SwiftNIO (docs/server.md "The media port's thread"). `recvmmsg`, `sendmmsg` and
// `struct mmsghdr` are GNU extensions that Swift's Glibc module leaves out (it is built
// without _GNU_SOURCE), and <sys/epoll.h> and <sys/eventfd.h> are not in it at all. The
// batch calls are wrapped here over a struct of the same layout (checked in the .c file), and
// the packet-info control message, reached only through the CMSG_* macros, is read here.

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>

/// `struct mmsghdr`: one datagram of a batch and, after the call, its length.
typedef struct {
    struct msghdr header;
    unsigned int length;
} duet_mmsghdr;

/// recvmmsg(2) and sendmmsg(2); -1 and errno on failure.
int duet_recvmmsg(int descriptor, duet_mmsghdr *messages, unsigned int count, int flags);
int duet_sendmmsg(int descriptor, duet_mmsghdr *messages, unsigned int count, int flags);

/// Control-buffer bytes one datagram needs for its packet info, IPv4 or IPv6.
size_t duet_packet_info_space(void);

/// Asks the kernel to report which local address each datagram was sent to (IP_PKTINFO, and
/// IPV6_RECVPKTINFO on an IPv6 socket). 0 on success, -1 and errno otherwise.
int duet_enable_packet_info(int descriptor, int ipv6);

/// The local address a received datagram was sent to: copies 4 or 16 bytes into `address`
/// and returns how many, or 0 when the datagram carried no packet info.
int duet_packet_destination(const struct msghdr *message, uint8_t address[16]);

#endif
