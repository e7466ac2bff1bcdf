/*
 * The libfcgi baseline for `make bench`: the smallest useful FastCGI responder, one request
 * at a time per process (FCGX_Accept_r loop), started 4 times by spawn-fcgi -F 4 on fd 0.
 *
 *   any path            -> "pid N\n"
 *   /big?bytes=N        -> N bytes of 'x' (the last one '\n'), written in 64 KiB pieces
 *   /sleep?ms=N         -> sleeps N ms, then "slept N pid P\n"
 *
 * Built by bench/run.sh with: cc -O2 -o libfcgi-hello libfcgi-hello.c -lfcgi
 */
#include <fcgiapp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long query_number(const char *query, const char *key, long fallback) {
    size_t klen = strlen(key);
    const char *p = query;
    while (p && *p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') return strtol(p + klen + 1, NULL, 10);
        p = strchr(p, '&');
        if (p) p++;
    }
    return fallback;
}

int main(void) {
    static char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    FCGX_Request request;
    if (FCGX_Init() != 0) return 1;
    if (FCGX_InitRequest(&request, 0, 0) != 0) return 1;
    const long pid = (long)getpid();
    while (FCGX_Accept_r(&request) >= 0) {
        const char *script = FCGX_GetParam("SCRIPT_NAME", request.envp);
        const char *query = FCGX_GetParam("QUERY_STRING", request.envp);
        if (!script) script = "/";
        if (strcmp(script, "/big") == 0) {
            long left = query_number(query, "bytes", 1048576);
            FCGX_FPrintF(request.out, "Content-Type: text/plain\r\n\r\n");
            while (left > 0) {
                int k = left < (long)sizeof chunk ? (int)left : (int)sizeof chunk;
                if (left == k) chunk[k - 1] = '\n';
                FCGX_PutStr(chunk, k, request.out);
                chunk[k - 1] = 'x';
                left -= k;
            }
        } else if (strcmp(script, "/sleep") == 0) {
            long ms = query_number(query, "ms", 100);
            struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
            while (nanosleep(&ts, &ts) != 0) {}
            FCGX_FPrintF(request.out, "Content-Type: text/plain\r\n\r\nslept %ld pid %ld\n", ms, pid);
        } else {
            FCGX_FPrintF(request.out, "Content-Type: text/plain\r\n\r\npid %ld\n", pid);
        }
        FCGX_Finish_r(&request);
    }
    return 0;
}
