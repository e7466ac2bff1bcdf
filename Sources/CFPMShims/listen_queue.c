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
