#ifndef CFPM_SHIMS_H
#define CFPM_SHIMS_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

/* Functions Glibc's Swift module does not import: GNU extensions (need _GNU_SOURCE) and
   function-like macros. Each is a direct pass-through. */

int cfpm_pipe2(int fds[2], int flags);
int cfpm_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int cfpm_signalfd(int fd, const sigset_t *mask, int flags);
int cfpm_prctl_set_pdeathsig(int sig);
int cfpm_prctl_set_child_subreaper(void);
int cfpm_prctl_set_dumpable(int on);
int cfpm_prctl_set_name(const char *name);
int cfpm_clearenv(void);
/* getrandom(2): Glibc's module map does not expose <sys/random.h>. */
ssize_t cfpm_getrandom(void *buffer, size_t length);
int cfpm_execvpe(const char *file, char *const argv[], char *const envp[]);
int cfpm_initgroups(const char *user, gid_t group);
int cfpm_tcp_listen_queue(int fd, uint32_t *unacked, uint32_t *sacked);
/* malloc_trim(0) (<malloc.h> is not in Glibc's Swift module): see heap_trim.c. */
int cfpm_malloc_trim(void);

int cfpm_wifexited(int status);
int cfpm_wexitstatus(int status);
int cfpm_wifsignaled(int status);
int cfpm_wtermsig(int status);
int cfpm_wcoredump(int status);

/* Set sa_handler (and flags) without Swift having to reach into the union. */
int cfpm_sigaction_handler(int sig, void (*handler)(int), int flags);
int cfpm_sigaction_default(int sig);
int cfpm_sigaction_ignore(int sig);

/* epoll without relying on how Swift imports the packed epoll_event. */
int cfpm_epoll_create(void);
int cfpm_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
int cfpm_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data);
int cfpm_epoll_del(int epfd, int fd);
/* Fills datas/events with up to max ready entries; returns the count or -1. */
int cfpm_epoll_wait(int epfd, uint64_t *datas, uint32_t *events, int max, int timeout_ms);
extern const uint32_t CFPM_EPOLLIN;
extern const uint32_t CFPM_EPOLLOUT;
extern const uint32_t CFPM_EPOLLERR;
extern const uint32_t CFPM_EPOLLHUP;
extern const uint32_t CFPM_EPOLLRDHUP;
extern const uint32_t CFPM_EPOLLET;
extern const uint32_t CFPM_EPOLLEXCLUSIVE;

/* Passing descriptors over a unix socket (SCM_RIGHTS). */
int cfpm_send_fds(int sock, const int *fds, int count, const void *data, size_t len);
/* Returns bytes of data read (0 = EOF, -1 = error); *count gets the number of fds (<= max). */
ssize_t cfpm_recv_fds(int sock, int *fds, int max, int *count, void *data, size_t len);

int cfpm_sigqueue_empty_mask(void);
int cfpm_sigrtmin(void);

extern const int CFPM_SFD_CLOEXEC;
extern const int CFPM_SFD_NONBLOCK;

/* Close every descriptor from first to last (UINT_MAX: all of them), or with cloexec set mark
   them close-on-exec instead. close_range(2) when the kernel has it (5.9; 5.11 for the
   close-on-exec flag), else one loop over every descriptor below RLIMIT_NOFILE (at most
   65536). Async-signal-safe and allocation-free: usable between fork and exec. Returns 0 when
   close_range did the work, 1 when the loop did. */
int cfpm_close_range(unsigned int first, unsigned int last, int cloexec);

/* Restore the default disposition of signals 32 and 33, which glibc reserves for itself (its
   sigaction refuses them) and an ancestor may have left ignored: the raw rt_sigaction system
   call. Async-signal-safe. Returns 0, or -1 with errno. */
int cfpm_reset_reserved_signals(void);

/* The process environment, `environ`: NULL after clearenv(), where Glibc's Swift getter, typed
   non-optional, would trap. */
char **cfpm_environ(void);

/* The worker's last answer: a complete FastCGI 500 (a trapping handler: SIGILL, SIGTRAP,
   SIGSEGV, SIGBUS, SIGABRT, SIGFPE) or 504 (request_terminate_timeout, from ITIMER_REAL)
   written from the signal handler with send(2) only, to the connection of the request in hand.
   The bytes are constant; arming stores the descriptor and request id (no syscall), and the
   timer is set only when none is pending. */
void cfpm_answer_install(int terminate_seconds);
void cfpm_answer_arm(int fd, uint16_t request_id, int64_t started_ns);
void cfpm_answer_response_started(void);
void cfpm_answer_disarm(void);


/* ---- ops: the slowlog's stack (slowlog.c) ---------------------------------------------- */
/* Installs the handler of `sig` (CFPM_SLOWLOG_SIGNAL) that appends this process's backtrace,
   at most `depth` frames, to `fd` (reopened at `path` when logrotate moved it; NULL: never),
   when the signal comes from `master` (kill(2)). Warms backtrace() up first. */
int cfpm_slowlog_install(int fd, const char *path, int depth, int sig, pid_t master);
extern const int CFPM_SLOWLOG_SIGNAL;

/* ---- ops: the executable's own symbols (exe_symbols.c) ---------------------------------- */
/* Maps /proc/self/exe read-only and finds its .symtab (once); returns the number of symbols,
   0 when there is none (stripped) or it cannot be read. Normal context only. */
int cfpm_exe_symbols_load(void);
/* The function of the executable containing `address` and the offset into it, or NULL.
   Async-signal-safe (reads the mapped table only). */
const char *cfpm_exe_symbol(uintptr_t address, uintptr_t *offset);

/* ---- ops: process titles (proctitle.c) ------------------------------------------------- */
/* Writes `title` over the argv area (extended over the environment strings, which move to the
   heap on first use) so ps and /proc/PID/cmdline show it; cut to the room there is. */
int cfpm_proctitle_set(const char *title);
size_t cfpm_proctitle_room(void);

/* ---- ops: workers' output (stdio.c) ----------------------------------------------------- */
/* C's stdout line-buffered (a worker's stdout is a pipe the master reads). */
int cfpm_stdout_line_buffered(void);

/* ---- status: the listen queue of unix sockets (listen_queue.c) ------------------------- */
/* The accept-queue length and backlog of the listening unix socket `fd`, from sock_diag.
   Returns 0, or -1 when the kernel does not tell. */
int cfpm_unix_listen_queue(int fd, uint32_t *length, uint32_t *backlog);
/* The same for many listeners at once, by inode (`inodes` sorted ascending, `count` of them):
   one sock_diag dump of the listening unix sockets, so the cost does not grow with
   listeners x sockets as one exact query per listener does (the kernel finds a socket by
   inode by walking all of them). Sets found[i] to 1 for each inode it saw. Returns 0, or -1. */
int cfpm_unix_listen_queues(const uint32_t *inodes, size_t count, uint32_t *lengths, uint32_t *backlogs, uint8_t *found);

/* status (exec pools): 1 when `number` is the accept(2) or accept4(2) system call. */
int cfpm_is_accept_syscall(long number);

/* ---- perf: keep-alive without head-of-line waits (kept_handoff.c) ----------------------- */
/* The worker lists its idle kept connections (descriptor and 19-byte hand-off payload); when
   a request has been in hand for `threshold_ns` a one-shot POSIX timer's signal handler sends them to the pool's hand-off
   socket (SCM_RIGHTS) for an idle sibling. busy/idle are stores; the timer is set only when
   none is pending and connections are listed. take_handed returns (and forgets) the ones sent,
   for the worker to close once the request is answered. */
int cfpm_kept_install(int handoff_socket, int control_channel, int64_t threshold_ns);
/* The master keeps a duplicate of every kept connection so a worker's hard kill loses only the
   request in hand: a 24-byte report on the control channel ('K': kept, the descriptor passed
   as SCM_RIGHTS; 'H': handed on, none), written by cfpm_kept_report for Swift and the signal
   handler alike. Returns 1 when sent whole. */
#define CFPM_KEPT_REPORT_SIZE 24
int cfpm_kept_report(int control_channel, uint8_t code, int fd, const uint8_t *payload);
/* shutdown(SHUT_RDWR): the connection ends for every holder of it (the master's duplicate too). */
int cfpm_kept_shutdown(int fd);
/* Whether the connection is hung up (peer closed, or shut down here): poll(POLLRDHUP), no wait. */
int cfpm_kept_hung_up(int fd);
int cfpm_kept_add(int fd, const uint8_t *payload);
void cfpm_kept_remove(int fd);
void cfpm_kept_busy(int fd, int64_t started_ns);
void cfpm_kept_idle(void);
int cfpm_kept_handed_count(void);
int cfpm_kept_take_handed(int *out, int capacity);

/* The async executor's doorbell, a futex word (doorbell.c). */
void cfpm_doorbell_ring(uint32_t *word);
void cfpm_doorbell_wait(uint32_t *word);

#endif
