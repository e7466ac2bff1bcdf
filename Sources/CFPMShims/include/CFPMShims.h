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
int cfpm_prctl_set_dumpable(int on);
int cfpm_prctl_set_name(const char *name);
int cfpm_clearenv(void);
int cfpm_initgroups(const char *user, gid_t group);
int cfpm_tcp_listen_queue(int fd, uint32_t *unacked, uint32_t *sacked);

int cfpm_wifexited(int status);
int cfpm_wexitstatus(int status);
int cfpm_wifsignaled(int status);
int cfpm_wtermsig(int status);
int cfpm_wcoredump(int status);

/* Set sa_handler (and flags) without Swift having to reach into the union. */
int cfpm_sigaction_handler(int sig, void (*handler)(int), int flags);
int cfpm_sigaction_default(int sig);
int cfpm_sigaction_ignore(int sig);

extern const int CFPM_SFD_CLOEXEC;
extern const int CFPM_SFD_NONBLOCK;

#endif
