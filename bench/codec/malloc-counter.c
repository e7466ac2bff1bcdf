/*
 * A tiny LD_PRELOAD heap-allocation counter for bench/codec (built by mk/fastcgi.mk).
 * Every malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign is counted and
 * forwarded to glibc's own implementation; the benchmark reads the count through
 * malloc_counter_count(), found with dlsym (absent when the shim is not preloaded).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static unsigned long count;

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
