/* The floor for `make bench-jobs` (bench/jobs.py's `c-floor` mode): the least a syncToRedis
 * worker can cost with the same round trips as the Swift and PHP workers. libgearman's worker
 * (gearman_worker_work) and a bare RESP socket to Redis: per job
 * one EVALSHA of the same Lua script with the same key, payload and version. No JSON parser
 * (the id and version are read with strstr/strtol), no logging, no supervisor.
 *
 *   jobs-floor      (GEARMAN_SERVERS=HOST:PORT, REDIS_ADDRESS=HOST:PORT, SCRIPT=path to the .lua)
 *
 * Runs until SIGTERM (checked between jobs: libgearman's work() wakes once a second). */
#include <libgearman-1.0/gearman.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int redis_fd = -1;
static char sha[41];
static char out[1 << 16];
static char in[4096];
static volatile sig_atomic_t stopping = 0;

static void on_term(int sig) { (void)sig; stopping = 1; }

static void die(const char *what) { perror(what); exit(1); }

/* Appends `$len\r\nbytes\r\n` at out+at; the new end. */
static size_t bulk(size_t at, const char *bytes, size_t n) {
    at += (size_t)snprintf(out + at, sizeof out - at, "$%zu\r\n", n);
    if (at + n + 2 > sizeof out) { fprintf(stderr, "payload too large\n"); exit(1); }
    memcpy(out + at, bytes, n);
    at += n;
    out[at++] = '\r';
    out[at++] = '\n';
    return at;
}

/* Sends out[0..n) and reads one reply line (enough for an integer or a SHA1's bulk). */
static const char *round_trip(size_t n) {
    for (size_t sent = 0; sent < n;) {
        ssize_t w = send(redis_fd, out + sent, n - sent, MSG_NOSIGNAL);
        if (w <= 0) die("send");
        sent += (size_t)w;
    }
    size_t have = 0;
    for (;;) {
        ssize_t r = recv(redis_fd, in + have, sizeof in - 1 - have, 0);
        if (r <= 0) die("recv");
        have += (size_t)r;
        in[have] = 0;
        char *end = strstr(in, "\r\n");
        /* A bulk reply ($40\r\nSHA\r\n) ends at its second CRLF. */
        if (end && (in[0] != '$' || strstr(end + 2, "\r\n"))) return in;
    }
}

static void *sync_to_redis(gearman_job_st *job, void *context, size_t *size, gearman_return_t *ret) {
    (void)context;
    const char *payload = gearman_job_workload(job);
    size_t n = gearman_job_workload_size(job);
    char text[1024], key[32], version[32];
    if (n >= sizeof text) { *ret = GEARMAN_WORK_FAIL; return NULL; }
    memcpy(text, payload, n);
    text[n] = 0;
    const char *id = strstr(text, "\"id\":"), *v = strstr(text, "\"version\":");
    if (!id) { *ret = GEARMAN_WORK_FAIL; return NULL; }
    snprintf(key, sizeof key, "%ld", strtol(id + 5, NULL, 10));
    snprintf(version, sizeof version, "%ld", v ? strtol(v + 10, NULL, 10) : 0L);
    size_t at = (size_t)snprintf(out, sizeof out, "*6\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n$1\r\n1\r\n", sha);
    at = bulk(at, key, strlen(key));
    at = bulk(at, payload, n);
    at = bulk(at, version, strlen(version));
    const char *reply = round_trip(at);
    if (reply[0] != ':') { fprintf(stderr, "redis: %s", reply); *ret = GEARMAN_WORK_EXCEPTION; return NULL; }
    char *result = malloc(1);
    result[0] = reply[1];
    *size = 1;
    *ret = GEARMAN_SUCCESS;
    return result;
}

static void split(const char *address, char *host, size_t size, int *port) {
    const char *colon = strrchr(address, ':');
    size_t n = colon ? (size_t)(colon - address) : strlen(address);
    if (n >= size) n = size - 1;
    memcpy(host, address, n);
    host[n] = 0;
    *port = colon ? atoi(colon + 1) : 6379;
}

int main(void) {
    const char *servers = getenv("GEARMAN_SERVERS"), *redis = getenv("REDIS_ADDRESS"), *path = getenv("SCRIPT");
    if (!servers || !redis || !path) { fprintf(stderr, "set GEARMAN_SERVERS, REDIS_ADDRESS and SCRIPT\n"); return 2; }
    signal(SIGTERM, on_term);

    char host[256];
    int port;
    split(redis, host, sizeof host, &port);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "REDIS_ADDRESS: IPv4 only\n"); return 2; }
    redis_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (redis_fd < 0 || connect(redis_fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("redis connect");
    int one = 1;
    setsockopt(redis_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    static char script[8192];
    FILE *f = fopen(path, "r");
    if (!f) die(path);
    size_t len = fread(script, 1, sizeof script, f);
    fclose(f);
    size_t at = (size_t)snprintf(out, sizeof out, "*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n");
    at = bulk(at, script, len);
    const char *reply = round_trip(at);
    if (reply[0] != '$' || strlen(reply) < 5 + 40) { fprintf(stderr, "SCRIPT LOAD: %s", reply); return 1; }
    memcpy(sha, strstr(reply, "\r\n") + 2, 40);

    gearman_worker_st *worker = gearman_worker_create(NULL);
    if (!worker || gearman_worker_add_servers(worker, servers) != GEARMAN_SUCCESS ||
        gearman_worker_add_function(worker, "syncToRedis", 0, sync_to_redis, NULL) != GEARMAN_SUCCESS) {
        fprintf(stderr, "gearman: %s\n", worker ? gearman_worker_error(worker) : "no memory");
        return 1;
    }
    gearman_worker_set_timeout(worker, 1000);
    while (!stopping) {
        gearman_return_t rc = gearman_worker_work(worker);
        if (rc != GEARMAN_SUCCESS && rc != GEARMAN_TIMEOUT && rc != GEARMAN_NO_ACTIVE_FDS && !stopping) {
            fprintf(stderr, "gearman: %s\n", gearman_worker_error(worker));
            return 1;
        }
    }
    gearman_worker_free(worker);
    close(redis_fd);
    return 0;
}
