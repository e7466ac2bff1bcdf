/* libgearman's client, the reference the Swift worker is checked against
 * (Tests/GearmanClientTests/LibgearmanDifferentialTests.swift).
 *
 *   gearman_oracle_client HOST PORT fg|bg|high-bg|low-bg FUNCTION UNIQUE  < workload
 *
 * Reads the workload from standard input (any bytes, NULs too) and submits it; UNIQUE "-"
 * lets libgearman make one up. fg: waits for the job and writes its result to standard
 * output as it is, exit 0; a failed job exits 3 (WORK_FAIL) or 4 (WORK_EXCEPTION); WORK_DATA
 * parts are counted on standard error as "data N". bg variants: prints the job handle.
 * Any other libgearman error: its text on standard error, exit 1. */
#include <libgearman-1.0/gearman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s HOST PORT fg|bg|high-bg|low-bg FUNCTION UNIQUE < workload\n", argv[0]);
        return 2;
    }
    size_t size = 0, capacity = 1 << 16;
    char *workload = malloc(capacity);
    size_t n;
    while ((n = fread(workload + size, 1, capacity - size, stdin)) > 0) {
        size += n;
        if (size == capacity) workload = realloc(workload, capacity *= 2);
    }
    const char *unique = strcmp(argv[5], "-") == 0 ? NULL : argv[5];
    gearman_client_st *client = gearman_client_create(NULL);
    if (!client) return 1;
    gearman_client_set_timeout(client, 30000);
    if (gearman_client_add_server(client, argv[1], (in_port_t)atoi(argv[2])) != GEARMAN_SUCCESS) {
        fprintf(stderr, "%s\n", gearman_client_error(client));
        return 1;
    }
    int status = 0;
    if (strcmp(argv[3], "fg") == 0) {
        gearman_return_t rc;
        size_t result_size = 0;
        int parts = 0;
        void *result;
        do {
            result = gearman_client_do(client, argv[4], unique, workload, size, &result_size, &rc);
            if (rc == GEARMAN_WORK_DATA) {
                parts++;
                free(result);
                result = NULL;
            }
        } while (rc == GEARMAN_WORK_DATA || rc == GEARMAN_WORK_STATUS || rc == GEARMAN_WORK_WARNING);
        fprintf(stderr, "data %d\n", parts);
        if (rc == GEARMAN_SUCCESS) {
            fwrite(result, 1, result_size, stdout);
        } else if (rc == GEARMAN_WORK_FAIL) {
            status = 3;
        } else if (rc == GEARMAN_WORK_EXCEPTION) {
            status = 4;
        } else {
            fprintf(stderr, "%s\n", gearman_client_error(client));
            status = 1;
        }
        free(result);
    } else {
        char handle[GEARMAN_JOB_HANDLE_SIZE];
        gearman_return_t rc;
        if (strcmp(argv[3], "high-bg") == 0)
            rc = gearman_client_do_high_background(client, argv[4], unique, workload, size, handle);
        else if (strcmp(argv[3], "low-bg") == 0)
            rc = gearman_client_do_low_background(client, argv[4], unique, workload, size, handle);
        else
            rc = gearman_client_do_background(client, argv[4], unique, workload, size, handle);
        if (rc == GEARMAN_SUCCESS) {
            printf("%s\n", handle);
        } else {
            fprintf(stderr, "%s\n", gearman_client_error(client));
            status = 1;
        }
    }
    gearman_client_free(client);
    free(workload);
    return status;
}
