#define _GNU_SOURCE
#include <unistd.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
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
