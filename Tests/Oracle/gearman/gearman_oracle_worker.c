/* libgearman's worker, the reference the Swift client is checked against
 * (Tests/GearmanClientTests/LibgearmanDifferentialTests.swift).
 *
 *   gearman_oracle_worker HOST PORT FUNCTION COUNT
 *
 * Registers FUNCTION and does COUNT jobs. For each job it prints one line,
 *   JOB <handle> <unique or -> <workload size> <FNV-1a 64 of the workload, hex>
 * then sends WORK_STATUS 1/2 and a WORK_DATA "part", and completes with the workload
 * reversed byte by byte. A workload starting with "fail" is failed instead (WORK_FAIL).
 * Exits 0 after COUNT jobs, 1 on any libgearman error (printed as "ERROR <text>"). */
#include <libgearman-1.0/gearman.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const unsigned char *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static void *work(gearman_job_st *job, void *context, size_t *result_size, gearman_return_t *ret) {
    (void)context;
    const unsigned char *in = gearman_job_workload(job);
    size_t n = gearman_job_workload_size(job);
    const char *unique = gearman_job_unique(job);
    printf("JOB %s %s %zu %016llx\n", gearman_job_handle(job), (unique && *unique) ? unique : "-", n,
           (unsigned long long)fnv1a(in, n));
    fflush(stdout);
    if (n >= 4 && memcmp(in, "fail", 4) == 0) {
        *result_size = 0;
        *ret = GEARMAN_WORK_FAIL;
        return NULL;
    }
    if (gearman_job_send_status(job, 1, 2) != GEARMAN_SUCCESS || gearman_job_send_data(job, "part", 4) != GEARMAN_SUCCESS) {
        *ret = GEARMAN_WORK_FAIL;
        return NULL;
    }
    unsigned char *out = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) out[i] = in[n - 1 - i];
    *result_size = n;
    *ret = GEARMAN_SUCCESS;
    return out;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT FUNCTION COUNT\n", argv[0]);
        return 2;
    }
    gearman_worker_st *worker = gearman_worker_create(NULL);
    if (!worker) return 1;
    gearman_worker_set_timeout(worker, 30000);
    if (gearman_worker_add_server(worker, argv[1], (in_port_t)atoi(argv[2])) != GEARMAN_SUCCESS ||
        gearman_worker_add_function(worker, argv[3], 0, work, NULL) != GEARMAN_SUCCESS) {
        printf("ERROR %s\n", gearman_worker_error(worker));
        return 1;
    }
    for (int i = atoi(argv[4]); i > 0; i--) {
        gearman_return_t rc = gearman_worker_work(worker);
        if (rc != GEARMAN_SUCCESS && rc != GEARMAN_WORK_FAIL) {
            printf("ERROR %s\n", gearman_worker_error(worker));
            gearman_worker_free(worker);
            return 1;
        }
    }
    gearman_worker_free(worker);
    return 0;
}
