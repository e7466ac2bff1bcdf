/* An exec pool's request counter, preloaded into the pool's program (php-cgi, a libfcgi
   program) by the worker that execs it.

   The program accepts on the pool's socket itself, so neither the master nor a Swift worker
   sees its requests. This library does: it wraps accept()/accept4() on descriptor 0 (the
   FastCGI listening socket), follows the records read from each connection so accepted, and
   counts every FCGI_BEGIN_REQUEST — a request, kept connections included, as php-fpm's
   "accepted conn" counts them — in the pool's scoreboard: the pool's counter and the worker's
   slot, through a mapping of the scoreboard file the worker opened before it dropped
   privileges and handed over as SWIFT_FPM_EXEC_COUNTER=FD:POOL_OFFSET:SLOT_OFFSET (byte
   offsets of two 8-byte counters). The constructor maps it, closes FD and removes the variable
   and itself from LD_PRELOAD, so programs the script runs inherit neither. Without the
   variable every wrapper is a plain pass-through. */
#define _GNU_SOURCE
#include "FPMExecCounter.h"
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRACKED_FDS 4096
#define FCGI_BEGIN_REQUEST 1

/* Where a connection's record stream is: header bytes gathered, body bytes left to skip. */
struct stream {
    uint8_t tracked;
    uint8_t header_have;
    uint8_t header[8];
    uint32_t skip;
};

static struct stream streams[TRACKED_FDS];
static int64_t *pool_counter;
static int64_t *slot_counter;

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_close)(int);

static void resolve(void) {
    real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    real_recv = (ssize_t (*)(int, void *, size_t, int))dlsym(RTLD_NEXT, "recv");
    real_accept = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    real_accept4 = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
}

static long parse_number(const char **p) {
    char *end;
    long v = strtol(*p, &end, 10);
    if (end == *p || v < 0) return -1;
    *p = *end == ':' ? end + 1 : end;
    return v;
}

/* Drops `self` from the colon- or space-separated LD_PRELOAD list. */
static void forget_preload(const char *self) {
    const char *list = getenv("LD_PRELOAD");
    if (!list || !self) return;
    size_t n = strlen(list);
    char *kept = malloc(n + 1);
    if (!kept) return;
    size_t used = 0;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ": ");
        if (len > 0 && !(len == strlen(self) && memcmp(p, self, len) == 0)) {
            if (used) kept[used++] = ':';
            memcpy(kept + used, p, len);
            used += len;
        }
        p += len;
        if (*p) p++;
    }
    kept[used] = 0;
    if (used) setenv("LD_PRELOAD", kept, 1); else unsetenv("LD_PRELOAD");
    free(kept);
}

__attribute__((constructor)) static void fpm_exec_counter_init(void) {
    resolve();
    const char *spec = getenv(FPM_EXEC_COUNTER_ENV);
    if (!spec) return;
    const char *p = spec;
    long fd = parse_number(&p), pool_offset = parse_number(&p), slot_offset = parse_number(&p);
    unsetenv(FPM_EXEC_COUNTER_ENV);
    Dl_info info;
    if (dladdr((void *)fpm_exec_counter_init, &info) && info.dli_fname) forget_preload(info.dli_fname);
    if (fd < 0 || pool_offset < 0 || slot_offset < 0) return;
    struct stat st;
    if (fstat((int)fd, &st) == 0 && pool_offset + 8 <= st.st_size && slot_offset + 8 <= st.st_size
        && pool_offset % 8 == 0 && slot_offset % 8 == 0) {
        void *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
        if (base != MAP_FAILED) {
            pool_counter = (int64_t *)((char *)base + pool_offset);
            slot_counter = (int64_t *)((char *)base + slot_offset);
        }
    }
    if (real_close) real_close((int)fd);
}

static void track(int fd) {
    if (!pool_counter || fd < 0 || fd >= TRACKED_FDS) return;
    memset(&streams[fd], 0, sizeof streams[fd]);
    streams[fd].tracked = 1;
}

/* Follows the record stream through `n` bytes just read; counts each FCGI_BEGIN_REQUEST. */
static void follow(int fd, const uint8_t *bytes, ssize_t n) {
    if (n <= 0 || fd < 0 || fd >= TRACKED_FDS || !streams[fd].tracked) return;
    struct stream *s = &streams[fd];
    size_t left = (size_t)n;
    while (left > 0) {
        if (s->skip > 0) {
            size_t k = left < s->skip ? left : s->skip;
            s->skip -= (uint32_t)k;
            bytes += k;
            left -= k;
            continue;
        }
        size_t want = 8 - s->header_have;
        size_t k = left < want ? left : want;
        memcpy(s->header + s->header_have, bytes, k);
        s->header_have += (uint8_t)k;
        bytes += k;
        left -= k;
        if (s->header_have == 8) {
            s->header_have = 0;
            s->skip = ((uint32_t)s->header[4] << 8 | s->header[5]) + s->header[6];
            if (s->header[1] == FCGI_BEGIN_REQUEST) {
                __atomic_fetch_add(pool_counter, 1, __ATOMIC_RELAXED);
                __atomic_fetch_add(slot_counter, 1, __ATOMIC_RELAXED);
            }
        }
    }
}

int accept(int sockfd, struct sockaddr *addr, socklen_t *len) {
    if (!real_accept) resolve();
    int fd = real_accept(sockfd, addr, len);
    if (sockfd == 0) track(fd);
    return fd;
}

int accept4(int sockfd, struct sockaddr *addr, socklen_t *len, int flags) {
    if (!real_accept4) resolve();
    int fd = real_accept4(sockfd, addr, len, flags);
    if (sockfd == 0) track(fd);
    return fd;
}

ssize_t read(int fd, void *buf, size_t count) {
    if (!real_read) resolve();
    ssize_t n = real_read(fd, buf, count);
    follow(fd, buf, n);
    return n;
}

ssize_t recv(int fd, void *buf, size_t count, int flags) {
    if (!real_recv) resolve();
    ssize_t n = real_recv(fd, buf, count, flags);
    if (!(flags & MSG_PEEK)) follow(fd, buf, n);
    return n;
}

int close(int fd) {
    if (!real_close) resolve();
    if (fd >= 0 && fd < TRACKED_FDS) streams[fd].tracked = 0;
    return real_close(fd);
}
