#define _GNU_SOURCE
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/syscall.h>
#include "CFPMShims.h"

const int CFPM_SFD_CLOEXEC = SFD_CLOEXEC;
const int CFPM_SFD_NONBLOCK = SFD_NONBLOCK;

int cfpm_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int cfpm_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) { return accept4(fd, addr, len, flags); }
int cfpm_signalfd(int fd, const sigset_t *mask, int flags) { return signalfd(fd, mask, flags); }
int cfpm_prctl_set_pdeathsig(int sig) { return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0); }
int cfpm_prctl_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, (unsigned long)on, 0, 0, 0); }
int cfpm_prctl_set_name(const char *name) { return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }
int cfpm_clearenv(void) { return clearenv(); }
int cfpm_execvpe(const char *file, char *const argv[], char *const envp[]) { return execvpe(file, argv, envp); }
int cfpm_initgroups(const char *user, gid_t group) { return initgroups(user, group); }

int cfpm_tcp_listen_queue(int fd, uint32_t *unacked, uint32_t *sacked) {
    struct tcp_info info;
    socklen_t len = sizeof(info);
    memset(&info, 0, sizeof(info));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return -1;
    /* For a listening socket Linux reports the accept queue length in tcpi_unacked and the
       backlog in tcpi_sacked. */
    *unacked = info.tcpi_unacked;
    *sacked = info.tcpi_sacked;
    return 0;
}

int cfpm_wifexited(int status) { return WIFEXITED(status); }
int cfpm_wexitstatus(int status) { return WEXITSTATUS(status); }
int cfpm_wifsignaled(int status) { return WIFSIGNALED(status); }
int cfpm_wtermsig(int status) { return WTERMSIG(status); }
int cfpm_wcoredump(int status) { return WCOREDUMP(status); }

int cfpm_sigaction_handler(int sig, void (*handler)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}
int cfpm_sigaction_default(int sig) { return cfpm_sigaction_handler(sig, SIG_DFL, 0); }
int cfpm_sigaction_ignore(int sig) { return cfpm_sigaction_handler(sig, SIG_IGN, 0); }

#include <sys/epoll.h>
const uint32_t CFPM_EPOLLIN = EPOLLIN;
const uint32_t CFPM_EPOLLOUT = EPOLLOUT;
const uint32_t CFPM_EPOLLERR = EPOLLERR;
const uint32_t CFPM_EPOLLHUP = EPOLLHUP;
const uint32_t CFPM_EPOLLRDHUP = EPOLLRDHUP;
const uint32_t CFPM_EPOLLET = EPOLLET;
const uint32_t CFPM_EPOLLEXCLUSIVE = EPOLLEXCLUSIVE;

int cfpm_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }
static int cfpm_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}
int cfpm_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) { return cfpm_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, events, data); }
int cfpm_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data) { return cfpm_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, events, data); }
int cfpm_epoll_del(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }
int cfpm_epoll_wait(int epfd, uint64_t *datas, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event evs[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) { datas[i] = evs[i].data.u64; events[i] = evs[i].events; }
    return n;
}

int cfpm_send_fds(int sock, const int *fds, int count, const void *data, size_t len) {
    struct msghdr msg;
    struct iovec iov;
    char control[CMSG_SPACE(sizeof(int) * 16)];
    if (count > 16) { errno = EINVAL; return -1; }
    memset(&msg, 0, sizeof(msg));
    memset(control, 0, sizeof(control));
    iov.iov_base = (void *)data;
    iov.iov_len = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (count > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
    }
    return (int)sendmsg(sock, &msg, MSG_NOSIGNAL);
}

ssize_t cfpm_recv_fds(int sock, int *fds, int max, int *count, void *data, size_t len) {
    struct msghdr msg;
    struct iovec iov;
    char control[CMSG_SPACE(sizeof(int) * 16)];
    memset(&msg, 0, sizeof(msg));
    iov.iov_base = data;
    iov.iov_len = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    *count = 0;
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int got = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            int *p = (int *)CMSG_DATA(c);
            for (int i = 0; i < got; i++) {
                if (*count < max) fds[(*count)++] = p[i]; else close(p[i]);
            }
        }
    }
    return n;
}

int cfpm_sigqueue_empty_mask(void) {
    sigset_t set;
    sigemptyset(&set);
    return sigprocmask(SIG_SETMASK, &set, NULL);
}


#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int cfpm_close_range(unsigned int first, unsigned int last, int cloexec) {
    if (last < first) return 0;
#ifdef SYS_close_range
    /* Through syscall(2): glibc only has a close_range() wrapper from 2.34 on. */
    if (syscall(SYS_close_range, first, last, cloexec ? CLOSE_RANGE_CLOEXEC : 0) == 0) return 0;
#endif
    /* ENOSYS (kernel before 5.9) or EINVAL (the flag before 5.11): one descriptor at a time. */
    struct rlimit limit;
    unsigned long top = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < top) top = (unsigned long)limit.rlim_cur;
    if ((unsigned long)last < top) top = (unsigned long)last + 1;
    for (unsigned long fd = first; fd < top; fd++) {
        if (cloexec) {
            int flags = fcntl((int)fd, F_GETFD);
            if (flags >= 0 && !(flags & FD_CLOEXEC)) (void)fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
        } else {
            (void)close((int)fd);
        }
    }
    return 1;
}

int cfpm_reset_reserved_signals(void) {
    /* The kernel's struct sigaction (handler, flags, restorer, mask), zeroed: SIG_DFL, no flags,
       nothing blocked. 8 is the size of the kernel's sigset_t. */
    unsigned long action[4];
    memset(action, 0, sizeof(action));
    int result = 0;
    for (int sig = 32; sig <= 33; sig++) {
        if (syscall(SYS_rt_sigaction, sig, action, NULL, 8) != 0) result = -1;
    }
    return result;
}

char **cfpm_environ(void) { return environ; }
