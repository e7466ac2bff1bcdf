#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>
#include "CFPMShims.h"

/* The slowlog's stack: the master writes an entry's header and then signals the worker, whose
   handler appends its own backtrace, one frame a line, with async-signal-safe calls only:
   backtrace() (loaded and warmed up at install, so its first-call dlopen of libgcc never runs
   in the handler), dladdr() (what glibc's AS-safe backtrace_symbols_fd uses), the executable's
   own symbol table mapped at install (exe_symbols.c) for what dladdr cannot name, stat/open/dup2
   and write. The frames are formatted into a static buffer and written in as few write(2)s as
   fit, O_APPEND, so they follow the header the master wrote just before. */

#define SLOWLOG_MAX_FRAMES 1024
#define SLOWLOG_SKIP_LIMIT 8

static volatile sig_atomic_t slowlog_fd = -1;
static int slowlog_depth = 20;
static pid_t slowlog_master = 0;
static char slowlog_path[4096];
static int slowlog_has_path = 0;
static void *slowlog_frames[SLOWLOG_MAX_FRAMES + SLOWLOG_SKIP_LIMIT];
static char slowlog_out[8192];
static size_t slowlog_used = 0;
/* The executable's path and load address: the loader names it by argv[0], which the process
   title overwrites. */
static char slowlog_exe[4096];
static void *slowlog_exe_base = NULL;

static void slowlog_flush(int fd) {
    size_t sent = 0;
    while (sent < slowlog_used) {
        ssize_t k = write(fd, slowlog_out + sent, slowlog_used - sent);
        if (k > 0) { sent += (size_t)k; continue; }
        if (k < 0 && errno == EINTR) continue;
        break;
    }
    slowlog_used = 0;
}

static void slowlog_put(int fd, const char *s, size_t n) {
    while (n > 0) {
        if (slowlog_used == sizeof(slowlog_out)) slowlog_flush(fd);
        size_t room = sizeof(slowlog_out) - slowlog_used;
        size_t k = n < room ? n : room;
        memcpy(slowlog_out + slowlog_used, s, k);
        slowlog_used += k;
        s += k;
        n -= k;
    }
}

static void slowlog_puts(int fd, const char *s) { slowlog_put(fd, s, strlen(s)); }

static void slowlog_hex(int fd, uintptr_t v, int width) {
    char digits[2 + 2 * sizeof(uintptr_t)];
    int n = 0;
    char tmp[2 * sizeof(uintptr_t)];
    int k = 0;
    do { tmp[k++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v != 0 && k < (int)sizeof(tmp));
    while (k < width && k < (int)sizeof(tmp)) tmp[k++] = '0';
    digits[n++] = '0';
    digits[n++] = 'x';
    while (k > 0) digits[n++] = tmp[--k];
    slowlog_put(fd, digits, (size_t)n);
}

/* After logrotate moved the file, the path names a new one: append there (when this process
   may still open it) instead of to the moved file. */
static int slowlog_current_fd(void) {
    int fd = slowlog_fd;
    if (fd < 0 || !slowlog_has_path) return fd;
    struct stat held, named;
    if (fstat(fd, &held) != 0) return fd;
    if (stat(slowlog_path, &named) == 0 && named.st_dev == held.st_dev && named.st_ino == held.st_ino) return fd;
    int fresh = open(slowlog_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fresh < 0) return fd;
    if (dup3(fresh, fd, O_CLOEXEC) < 0) { close(fresh); return fd; }
    close(fresh);
    return fd;
}

static uintptr_t slowlog_interrupted_pc(void *context) {
    ucontext_t *uc = (ucontext_t *)context;
    if (uc == NULL) return 0;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    return 0;
#endif
}

static void slowlog_handler(int sig, siginfo_t *info, void *context) {
    (void)sig;
    /* Only the master asks (kill(2) from its pid); anything else sending this signal is ignored. */
    if (info == NULL || info->si_code != SI_USER || info->si_pid != slowlog_master) return;
    int saved = errno;
    int fd = slowlog_current_fd();
    if (fd < 0) { errno = saved; return; }
    int total = backtrace(slowlog_frames, slowlog_depth + SLOWLOG_SKIP_LIMIT);
    /* Skip this handler and the kernel's signal trampoline: start at the interrupted frame. */
    int first = total > 1 ? 1 : 0;
    uintptr_t pc = slowlog_interrupted_pc(context);
    for (int i = 0; i < total && i < SLOWLOG_SKIP_LIMIT; i++) {
        if (pc != 0 && (uintptr_t)slowlog_frames[i] == pc) { first = i; break; }
    }
    int shown = 0;
    for (int i = first; i < total && shown < slowlog_depth; i++, shown++) {
        uintptr_t address = (uintptr_t)slowlog_frames[i];
        Dl_info where;
        memset(&where, 0, sizeof(where));
        int known = dladdr(slowlog_frames[i], &where);
        slowlog_puts(fd, "[");
        slowlog_hex(fd, address, 16);
        slowlog_puts(fd, "] ");
        const char *name = known ? where.dli_sname : NULL;
        uintptr_t into = known && name != NULL ? address - (uintptr_t)where.dli_saddr : 0;
        /* Not a dynamic symbol: the executable's own table may know it (internal functions). */
        if (name == NULL && (!known || where.dli_fbase == slowlog_exe_base)) name = cfpm_exe_symbol(address, &into);
        if (name != NULL) {
            /* C names get php-fpm's "name()"; Swift's mangled ones demangle with their
               parameters, so they stay as they are for `swift demangle`. */
            slowlog_puts(fd, name);
            slowlog_puts(fd, name[0] == '$' ? "+" : "()+");
            slowlog_hex(fd, into, 0);
        } else {
            slowlog_puts(fd, "???");
            if (known && where.dli_fbase != NULL) {
                slowlog_puts(fd, " +");
                slowlog_hex(fd, address - (uintptr_t)where.dli_fbase, 0);
            }
        }
        if (known && where.dli_fbase != NULL && where.dli_fbase == slowlog_exe_base && slowlog_exe[0] != '\0') {
            slowlog_puts(fd, " ");
            slowlog_puts(fd, slowlog_exe);
        } else if (known && where.dli_fname != NULL && where.dli_fname[0] != '\0') {
            slowlog_puts(fd, " ");
            slowlog_puts(fd, where.dli_fname);
        }
        slowlog_puts(fd, "\n");
    }
    slowlog_flush(fd);
    errno = saved;
}

int cfpm_slowlog_install(int fd, const char *path, int depth, int sig, pid_t master) {
    if (depth < 1) depth = 1;
    if (depth > SLOWLOG_MAX_FRAMES) depth = SLOWLOG_MAX_FRAMES;
    slowlog_depth = depth;
    slowlog_master = master;
    slowlog_has_path = 0;
    if (path != NULL) {
        size_t n = strlen(path);
        if (n < sizeof(slowlog_path)) {
            memcpy(slowlog_path, path, n + 1);
            slowlog_has_path = 1;
        }
    }
    /* The first backtrace() loads libgcc_s (dlopen, malloc): do it now, outside any handler. */
    void *warm[4];
    (void)backtrace(warm, 4);
    Dl_info where;
    memset(&where, 0, sizeof(where));
    if (dladdr((void *)&cfpm_slowlog_install, &where)) slowlog_exe_base = where.dli_fbase;
    ssize_t n = readlink("/proc/self/exe", slowlog_exe, sizeof(slowlog_exe) - 1);
    slowlog_exe[n > 0 ? n : 0] = '\0';
    (void)cfpm_exe_symbols_load();
    slowlog_fd = fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = slowlog_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

const int CFPM_SLOWLOG_SIGNAL = SIGURG;
