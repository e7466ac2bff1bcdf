#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "CFPMShims.h"

/* ---- a slow request hands its worker's idle kept connections to the pool's hand-off socket ----

   A worker watches the idle connections nginx keeps (FCGI_KEEP_CONN) between requests. While
   it runs a handler it cannot answer them, so a request arriving on one would wait behind the
   request in hand. Handing them off every time the worker becomes busy costs a sendmsg,
   recvmsg and two epoll_ctl per connection per request; instead a one-shot POSIX timer fires
   only when a request has been in hand for `threshold` and then, from the signal handler, the
   idle kept connections travel (SCM_RIGHTS, sendmsg: async-signal-safe) to the hand-off socket,
   where an idle sibling (or the first worker to become idle) adopts them. Fast requests cost
   stores only; the timer is set at most once per threshold while the worker is busy with kept
   connections parked, never while it is idle. */

#define KEPT_CAPACITY 64
#define KEPT_PAYLOAD 19

static int kept_fd[KEPT_CAPACITY];
static uint8_t kept_payload[KEPT_CAPACITY][KEPT_PAYLOAD];
static volatile sig_atomic_t kept_handed[KEPT_CAPACITY];
static volatile sig_atomic_t kept_handed_count = 0;
static int kept_count = 0;

static int kept_socket = -1;
static int kept_control = -1;
static int64_t kept_threshold_ns = 0;
static timer_t kept_timer;
static int kept_timer_ready = 0;
static volatile sig_atomic_t kept_timer_pending = 0;
static volatile sig_atomic_t kept_busy_fd = -1;
static volatile int64_t kept_busy_started_ns = 0;

static int64_t kept_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void kept_arm_timer(int64_t ns) {
    if (ns < 1000) ns = 1000;
    struct itimerspec t;
    memset(&t, 0, sizeof(t));
    t.it_value.tv_sec = ns / 1000000000;
    t.it_value.tv_nsec = ns % 1000000000;
    kept_timer_pending = 1;
    if (timer_settime(kept_timer, 0, &t, NULL) != 0) kept_timer_pending = 0;
}

static int kept_send(int fd, const uint8_t *payload) {
    struct iovec iov = { (void *)payload, KEPT_PAYLOAD };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof(control));
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do { n = sendmsg(kept_socket, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n == KEPT_PAYLOAD;
}

/* ---- reports to the master, which keeps a duplicate of every kept connection ----

   Fixed 24 bytes (code, the worker's descriptor number native-endian, the 19-byte peer
   payload), so the master's reads on the stream channel never split one. 'K' carries the
   connection as SCM_RIGHTS. A handed-on connection is reported ('H') before it is sent to the
   hand-off socket: killed between the two, the master only drops its duplicate (the connection
   closes, idle), where the other order could have it offered twice. */

int cfpm_kept_report(int control, uint8_t code, int fd, const uint8_t *payload) {
    uint8_t bytes[CFPM_KEPT_REPORT_SIZE];
    memset(bytes, 0, sizeof(bytes));
    bytes[0] = code;
    memcpy(bytes + 1, &fd, sizeof(int));
    if (payload) memcpy(bytes + 5, payload, KEPT_PAYLOAD);
    struct iovec iov = { bytes, sizeof(bytes) };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control_buf;
    memset(&control_buf, 0, sizeof(control_buf));
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (code == 'K') {
        msg.msg_control = control_buf.buf;
        msg.msg_controllen = sizeof(control_buf.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n;
    do { n = sendmsg(control, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n == CFPM_KEPT_REPORT_SIZE;
}

int cfpm_kept_shutdown(int fd) { return shutdown(fd, SHUT_RDWR); }

int cfpm_kept_hung_up(int fd) {
    struct pollfd p = { fd, POLLRDHUP, 0 };
    int n;
    do { n = poll(&p, 1, 0); } while (n < 0 && errno == EINTR);
    return n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static void kept_alarm(int sig) {
    (void)sig;
    int saved = errno;
    kept_timer_pending = 0;
    int busy = kept_busy_fd;
    if (busy >= 0) {
        int64_t elapsed = kept_now_ns() - kept_busy_started_ns;
        if (elapsed < kept_threshold_ns) {
            /* Set for an earlier (fast) request: wait out this one's threshold. */
            kept_arm_timer(kept_threshold_ns - elapsed);
        } else {
            for (int i = 0; i < kept_count; i++) {
                int fd = kept_fd[i];
                if (fd < 0 || fd == busy || kept_handed[i]) continue;
                /* Unreported, it stays here: the master would offer it again at our end. */
                if (kept_control >= 0 && !cfpm_kept_report(kept_control, 'H', fd, NULL)) continue;
                if (!kept_send(fd, kept_payload[i])) {
                    /* Full: the rest stay here, this one registered with the master again. */
                    if (kept_control >= 0) cfpm_kept_report(kept_control, 'K', fd, kept_payload[i]);
                    break;
                }
                kept_handed[i] = 1;
                kept_handed_count += 1;
            }
        }
    }
    errno = saved;
}

int cfpm_kept_install(int handoff_socket, int control_channel, int64_t threshold_ns) {
    kept_socket = handoff_socket;
    kept_control = control_channel;
    kept_threshold_ns = threshold_ns;
    for (int i = 0; i < KEPT_CAPACITY; i++) { kept_fd[i] = -1; kept_handed[i] = 0; }
    int sig = SIGRTMIN + 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kept_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) return -1;
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = sig;
    if (timer_create(CLOCK_MONOTONIC, &ev, &kept_timer) != 0) return -1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    kept_timer_ready = 1;
    return 0;
}

int cfpm_kept_add(int fd, const uint8_t *payload) {
    int slot = -1;
    for (int i = 0; i < kept_count; i++) if (kept_fd[i] < 0) { slot = i; break; }
    if (slot < 0) {
        if (kept_count == KEPT_CAPACITY) return -1;
        slot = kept_count++;
    }
    memcpy(kept_payload[slot], payload, KEPT_PAYLOAD);
    kept_handed[slot] = 0;
    kept_fd[slot] = fd;
    return 0;
}

void cfpm_kept_remove(int fd) {
    for (int i = 0; i < kept_count; i++) {
        if (kept_fd[i] != fd) continue;
        kept_fd[i] = -1;
        if (kept_handed[i]) { kept_handed[i] = 0; kept_handed_count -= 1; }
    }
    while (kept_count > 0 && kept_fd[kept_count - 1] < 0) kept_count--;
}

/* Whether an idle kept connection other than `busy` is listed (usually the first slot says). */
static int kept_has_other(int busy) {
    for (int i = 0; i < kept_count; i++) if (kept_fd[i] >= 0 && kept_fd[i] != busy) return 1;
    return 0;
}

void cfpm_kept_busy(int fd, int64_t started_ns) {
    kept_busy_started_ns = started_ns;
    kept_busy_fd = fd;
    if (kept_timer_ready && !kept_timer_pending && kept_has_other(fd)) {
        int64_t left = started_ns + kept_threshold_ns - kept_now_ns();
        kept_arm_timer(left);
    }
}

void cfpm_kept_idle(void) { kept_busy_fd = -1; }

int cfpm_kept_handed_count(void) { return kept_handed_count; }

int cfpm_kept_take_handed(int *out, int capacity) {
    int n = 0;
    for (int i = 0; i < kept_count && n < capacity; i++) {
        if (kept_fd[i] < 0 || !kept_handed[i]) continue;
        out[n++] = kept_fd[i];
        kept_fd[i] = -1;
        kept_handed[i] = 0;
        kept_handed_count -= 1;
    }
    while (kept_count > 0 && kept_fd[kept_count - 1] < 0) kept_count--;
    return n;
}
