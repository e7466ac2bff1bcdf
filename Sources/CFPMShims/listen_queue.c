/* The accept-queue length of a listening unix socket, from the kernel's sock_diag netlink
   interface (the figure `ss -xl` shows in Recv-Q): TCP_INFO answers only for TCP listeners. */
#include "CFPMShims.h"
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <unistd.h>

int cfpm_unix_listen_queue(int fd, uint32_t *length, uint32_t *backlog) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0) return -1;
    struct {
        struct nlmsghdr header;
        struct unix_diag_req request;
    } message;
    memset(&message, 0, sizeof(message));
    message.header.nlmsg_len = sizeof(message);
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.request.sdiag_family = AF_UNIX;
    message.request.udiag_states = ~0U;
    message.request.udiag_ino = (uint32_t)st.st_ino;
    message.request.udiag_show = UDIAG_SHOW_RQLEN;
    message.request.udiag_cookie[0] = ~0U;  /* no cookie: look the socket up by inode */
    message.request.udiag_cookie[1] = ~0U;
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof(kernel));
    kernel.nl_family = AF_NETLINK;
    int result = -1;
    if (sendto(nl, &message, sizeof(message), 0, (struct sockaddr *)&kernel, sizeof(kernel)) == (ssize_t)sizeof(message)) {
        /* The kernel answers within sendto: the reply is queued when it returns. */
        union { struct nlmsghdr header; char bytes[4096]; } reply;
        ssize_t n = recv(nl, &reply, sizeof(reply), MSG_DONTWAIT);
        struct nlmsghdr *h = &reply.header;
        if (n > 0 && NLMSG_OK(h, (size_t)n) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
            struct unix_diag_msg *m = NLMSG_DATA(h);
            int left = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));
            for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
                if (a->rta_type == UNIX_DIAG_RQLEN && RTA_PAYLOAD(a) >= sizeof(struct unix_diag_rqlen)) {
                    struct unix_diag_rqlen *q = RTA_DATA(a);
                    /* For a listener: connections waiting to be accepted, and the backlog. */
                    *length = q->udiag_rqueue;
                    *backlog = q->udiag_wqueue;
                    result = 0;
                }
            }
        }
    }
    close(nl);
    return result;
}

/* Index of `inode` in the sorted `inodes`, or -1. */
static long find_inode(const uint32_t *inodes, size_t count, uint32_t inode) {
    size_t low = 0, high = count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (inodes[middle] == inode) return (long)middle;
        if (inodes[middle] < inode) low = middle + 1; else high = middle;
    }
    return -1;
}

int cfpm_unix_listen_queues(const uint32_t *inodes, size_t count, uint32_t *lengths, uint32_t *backlogs, uint8_t *found) {
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0) return -1;
    struct {
        struct nlmsghdr header;
        struct unix_diag_req request;
    } message;
    memset(&message, 0, sizeof(message));
    message.header.nlmsg_len = sizeof(message);
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = AF_UNIX;
    message.request.udiag_states = 1U << 10;  /* TCP_LISTEN: listeners only */
    message.request.udiag_show = UDIAG_SHOW_RQLEN;
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof(kernel));
    kernel.nl_family = AF_NETLINK;
    int result = -1;
    if (sendto(nl, &message, sizeof(message), 0, (struct sockaddr *)&kernel, sizeof(kernel)) != (ssize_t)sizeof(message)) {
        close(nl);
        return -1;
    }
    /* A dump comes in parts, each a buffer of messages, until NLMSG_DONE. Bounded: a dump of
       a million listeners fits in far fewer reads. */
    char buffer[32768] __attribute__((aligned(4)));
    for (int reads = 0; reads < 100000; reads++) {
        ssize_t n = recv(nl, buffer, sizeof(buffer), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        int done = 0;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buffer; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) { done = 1; result = 0; break; }
            if (h->nlmsg_type == NLMSG_ERROR) { done = 1; break; }
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg))) continue;
            struct unix_diag_msg *m = NLMSG_DATA(h);
            long index = find_inode(inodes, count, m->udiag_ino);
            if (index < 0) continue;
            int left = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));
            for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
                if (a->rta_type == UNIX_DIAG_RQLEN && RTA_PAYLOAD(a) >= sizeof(struct unix_diag_rqlen)) {
                    struct unix_diag_rqlen *q = RTA_DATA(a);
                    lengths[index] = q->udiag_rqueue;
                    backlogs[index] = q->udiag_wqueue;
                    found[index] = 1;
                }
            }
        }
        if (done) break;
    }
    close(nl);
    return result;
}
