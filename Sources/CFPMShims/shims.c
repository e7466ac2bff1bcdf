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
int cfpm_prctl_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0, 0, 0); }
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

/* SIGRTMIN is a call into glibc (it reserves the first real-time signals for itself). */
int cfpm_sigrtmin(void) { return SIGRTMIN; }

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

/* ---- the worker's last answer ---------------------------------------------------------- */
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t answer_fd = -1;
static volatile uint16_t answer_request_id = 1;
static volatile sig_atomic_t answer_started = 0;
static volatile int64_t answer_started_ns = 0;
static volatile sig_atomic_t answer_timer_pending = 0;
static int64_t answer_terminate_ns = 0;

static const char answer_500[] = "Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nInternal Server Error\n";
static const char answer_504[] = "Status: 504 Gateway Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGateway Timeout\n";

static int64_t answer_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void answer_header(uint8_t *h, uint8_t type, uint16_t id, uint16_t length) {
    h[0] = 1; h[1] = type; h[2] = (uint8_t)(id >> 8); h[3] = (uint8_t)id;
    h[4] = (uint8_t)(length >> 8); h[5] = (uint8_t)length; h[6] = 0; h[7] = 0;
}

/* Async-signal-safe: a stack buffer, byte loops, send(2) without blocking or SIGPIPE. */
static void answer_write(int fd, const char *text, size_t length) {
    uint8_t out[8 + 256 + 8 + 16];
    size_t n = 0;
    uint16_t id = answer_request_id;
    if (!answer_started) {
        answer_header(out, 6, id, (uint16_t)length);
        for (size_t i = 0; i < length; i++) out[8 + i] = (uint8_t)text[i];
        n = 8 + length;
    }
    answer_header(out + n, 6, id, 0);               /* end of STDOUT */
    n += 8;
    answer_header(out + n, 3, id, 8);               /* END_REQUEST: app status 1, complete */
    uint8_t *b = out + n + 8;
    b[0] = 0; b[1] = 0; b[2] = 0; b[3] = 1; b[4] = 0; b[5] = 0; b[6] = 0; b[7] = 0;
    n += 16;
    size_t sent = 0;
    while (sent < n) {
        ssize_t k = send(fd, out + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k > 0) { sent += (size_t)k; continue; }
        if (k < 0 && errno == EINTR) continue;
        break;
    }
}

static void answer_crash(int sig) {
    int fd = answer_fd;
    if (fd >= 0) {
        answer_fd = -1;
        answer_write(fd, answer_500, sizeof(answer_500) - 1);
    }
    /* SA_RESETHAND restored the default action: die of the same signal, so the master logs
       it as php-fpm does ("exited on signal 4 (SIGILL)"). */
    raise(sig);
}

static void answer_arm_timer(int64_t ns) {
    struct itimerval t;
    memset(&t, 0, sizeof(t));
    if (ns < 1000) ns = 1000;
    t.it_value.tv_sec = ns / 1000000000;
    t.it_value.tv_usec = (ns % 1000000000) / 1000;
    answer_timer_pending = 1;
    setitimer(ITIMER_REAL, &t, NULL);
}

static void answer_alarm(int sig) {
    (void)sig;
    int saved = errno;
    answer_timer_pending = 0;
    int fd = answer_fd;
    if (fd >= 0) {
        int64_t due = answer_started_ns + answer_terminate_ns;
        int64_t now = answer_now_ns();
        if (now < due) {
            /* Armed for an earlier request: wait for this one's deadline. */
            answer_arm_timer(due - now);
        } else {
            answer_fd = -1;
            answer_write(fd, answer_504, sizeof(answer_504) - 1);
            /* This worker serves nothing more: end the connection now, so a web server that
               keeps it (fastcgi_keep_conn) sends its next request elsewhere instead of to a
               worker that waits to be stopped. */
            shutdown(fd, SHUT_RDWR);
            /* The client has its answer; the master's SIGTERM (which logs the timeout as
               php-fpm does) follows within its tick. Should it not come, go anyway. */
            struct timespec wait = { 3, 0 };
            while (nanosleep(&wait, &wait) == -1 && errno == EINTR) {}
            signal(SIGTERM, SIG_DFL);
            raise(SIGTERM);
        }
    }
    errno = saved;
}

void cfpm_answer_install(int terminate_seconds) {
    static const int crashes[] = { SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE };
    for (size_t i = 0; i < sizeof(crashes) / sizeof(crashes[0]); i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = answer_crash;
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(crashes[i], &sa, NULL);
    }
    answer_terminate_ns = (int64_t)terminate_seconds * 1000000000;
    if (terminate_seconds > 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = answer_alarm;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
    }
}

void cfpm_answer_arm(int fd, uint16_t request_id, int64_t started_ns) {
    answer_request_id = request_id;
    answer_started = 0;
    answer_started_ns = started_ns;
    answer_fd = fd;
    if (answer_terminate_ns > 0 && !answer_timer_pending) {
        int64_t left = started_ns + answer_terminate_ns - answer_now_ns();
        answer_arm_timer(left);
    }
}

void cfpm_answer_response_started(void) { answer_started = 1; }

void cfpm_answer_disarm(void) { answer_fd = -1; }

#include <sys/random.h>
ssize_t cfpm_getrandom(void *buffer, size_t length) { return getrandom(buffer, length, 0); }
