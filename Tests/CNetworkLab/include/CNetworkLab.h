// What NetworkLab's delay line needs from Linux that Swift's Glibc module does not export:
// setns (a GNU extension) and AF_PACKET sockets (linux/if_packet.h).
#ifndef CNETWORKLAB_H
#define CNETWORKLAB_H

#include <stddef.h>
#include <sys/types.h>

/// Moves the calling thread into the network namespace open at `fd`; 0 or -1 (errno).
int cnetworklab_enter_net_namespace(int fd);

/// An AF_PACKET socket receiving every frame on `interface` (in the caller's namespace), or -1.
int cnetworklab_packet_socket(const char *interface);

/// Receives one frame into `buffer`; sets `*outgoing` when it is a frame this host sent out
/// of the interface (which an AF_PACKET socket also sees). The count, or -1 (errno).
ssize_t cnetworklab_receive(int fd, void *buffer, size_t size, int *outgoing);

#endif
