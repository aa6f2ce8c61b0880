#define _GNU_SOURCE
#include "CNetworkLab.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cnetworklab_enter_net_namespace(int fd) { return setns(fd, CLONE_NEWNET); }

int cnetworklab_packet_socket(const char *interface) {
    unsigned int index = if_nametoindex(interface);
    if (index == 0) return -1;
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) return -1;
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = (int)index;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

ssize_t cnetworklab_receive(int fd, void *buffer, size_t size, int *outgoing) {
    struct sockaddr_ll source;
    socklen_t length = sizeof source;
    ssize_t count = recvfrom(fd, buffer, size, 0, (struct sockaddr *)&source, &length);
    *outgoing = count > 0 && source.sll_pkttype == PACKET_OUTGOING;
    return count;
}
