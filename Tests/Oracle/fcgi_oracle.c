/*
 * fcgi_oracle: the reference reading of one FastCGI request, through libfcgi.
 *
 * Built at test time by Tests/FastCGITests/LibfcgiDifferentialTests.swift:
 *     cc -O1 fcgi_oracle.c -lfcgi -o fcgi_oracle
 * Run with a *listening* socket as fd 0 (the classic FastCGI convention). It accepts one
 * connection, lets FCGX_Accept_r read BEGIN_REQUEST and PARAMS, reads the whole body
 * (FCGX_GetStr to EOF) and prints, on stdout:
 *
 *     OK
 *     P <hex of one "name=value" environment entry>      one line per param, sorted
 *     B <body length> <FNV-1a 64 of the body, hex>
 *
 * or "REJECT accept" when libfcgi gave up on the connection and went back to accept() for
 * another one (this is how FCGX_Accept_r reports a malformed BEGIN/PARAMS: it closes and
 * loops), or "REJECT stdin <error>" when reading the body failed.
 *
 * accept() is interposed below (an executable's definition wins over libc's for libfcgi's
 * calls): the first call accepts, the second means "the first connection was dropped".
 */
#define _GNU_SOURCE
#include <fcgiapp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int accept_calls = 0;

int accept(int fd, struct sockaddr *addr, socklen_t *len) {
    if (++accept_calls > 1) {
        fputs("REJECT accept\n", stdout);
        fflush(stdout);
        _exit(0);
    }
    return (int)syscall(SYS_accept4, fd, addr, len, 0);
}

static int compare(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_hex(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) printf("%02x", *p);
}

int main(void) {
    FCGX_Request request;
    if (FCGX_Init() != 0) {
        fputs("ERROR FCGX_Init\n", stdout);
        return 2;
    }
    FCGX_InitRequest(&request, 0, 0);
    if (FCGX_Accept_r(&request) < 0) {
        fputs("REJECT accept\n", stdout);
        return 0;
    }

    /* Read the body before printing anything: a failure there rejects the request. */
    uint64_t hash = 1469598103934665603ULL;
    size_t total = 0;
    char buf[8192];
    int n;
    while ((n = FCGX_GetStr(buf, sizeof buf, request.in)) > 0) {
        for (int i = 0; i < n; i++) {
            hash ^= (unsigned char)buf[i];
            hash *= 1099511628211ULL;
        }
        total += (size_t)n;
    }
    int err = FCGX_GetError(request.in);
    if (err != 0) {
        printf("REJECT stdin %d\n", err);
        return 0;
    }

    size_t count = 0;
    while (request.envp[count]) count++;
    char **env = malloc((count + 1) * sizeof *env);
    memcpy(env, request.envp, count * sizeof *env);
    qsort(env, count, sizeof *env, compare);
    puts("OK");
    for (size_t i = 0; i < count; i++) {
        fputs("P ", stdout);
        print_hex(env[i]);
        putchar('\n');
    }
    printf("B %zu %016llx\n", total, (unsigned long long)hash);
    fflush(stdout);
    free(env);
    return 0;
}
