/*
 * A tiny LD_PRELOAD heap-allocation counter, for bench/codec (built by mk/fastcgi.mk) and
 * bench/malloc-per-request.sh. Every malloc, calloc, realloc, posix_memalign, aligned_alloc
 * and memalign is counted and forwarded to glibc's own implementation. The codec benchmark
 * reads the count through malloc_counter_count(), found with dlsym (absent when the shim is
 * not preloaded). A process that leaves by _exit(2), as fpm's workers do, writes its count to
 * $MALLOC_COUNT_DIR/<pid> when that was set at load (a forked worker writes its own file; the
 * count is per process from the fork on, inherited values included, which a two-run
 * difference cancels).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static unsigned long count;
/* Read at load time: fpm's workers clear their environment (clear_env) before they serve. */
static char count_dir[256];

__attribute__((constructor)) static void remember_dir(void) {
    const char *dir = getenv("MALLOC_COUNT_DIR");
    if (dir) snprintf(count_dir, sizeof(count_dir), "%s", dir);
}

unsigned long malloc_counter_count(void) { return __atomic_load_n(&count, __ATOMIC_RELAXED); }

static void tick(void) { __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED); }

void *malloc(size_t n) { tick(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { tick(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { tick(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { tick(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { tick(); return __libc_memalign(a, n); }

int posix_memalign(void **out, size_t a, size_t n) {
    tick();
    void *p = __libc_memalign(a, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void _exit(int status) {
    const char *dir = count_dir;
    if (dir[0]) {
        char path[512], text[64];
        snprintf(path, sizeof(path), "%s/%d", dir, (int)getpid());
        int n = snprintf(text, sizeof(text), "%lu\n", __atomic_load_n(&count, __ATOMIC_RELAXED));
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) { (void)!write(fd, text, (size_t)n); close(fd); }
    }
    syscall(SYS_exit_group, status);
    for (;;) {}
}
