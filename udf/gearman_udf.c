/* A MariaDB/MySQL UDF library that queues Gearman background jobs from SQL, for triggers:
 *
 *   CREATE FUNCTION gman_servers_set   RETURNS STRING SONAME 'gearman_udf.so';
 *   CREATE FUNCTION gman_do_background RETURNS STRING SONAME 'gearman_udf.so';
 *   SELECT gman_servers_set('127.0.0.1:4730');          -- once: holds for every later call
 *   SELECT gman_do_background('syncToRedis', '{"id":1}');  -- the job handle
 *
 * gman_servers_set(servers) takes a comma-separated HOST[:PORT] list (libgearman's syntax) and
 * keeps it for the whole server process, every session, as the classic UDFs do; it returns
 * the list. gman_do_background(function, payload) queues a background job on those servers
 * and returns its handle; NULL function or payload → NULL. A statement that calls it for many
 * rows keeps one connection (made at the statement's init) for all of them. Errors (no servers
 * set, gearmand unreachable) fail the statement with libgearman's message, so a trigger's
 * UPDATE does not pass silently without its job. Built by `make gearman-udf` (mk/gearman.mk). */
#include <libgearman-1.0/gearman.h>
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server list every session shares; a statement's init copies it under the lock. */
static pthread_mutex_t servers_lock = PTHREAD_MUTEX_INITIALIZER;
static char *servers;

struct call {
    gearman_client_st *client;
    char handle[GEARMAN_JOB_HANDLE_SIZE];
};

static int string_argument(UDF_ARGS *args, unsigned i) {
    args->arg_type[i] = STRING_RESULT;
    return 1;
}

my_bool gman_servers_set_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
    if (args->arg_count != 1) {
        snprintf(message, MYSQL_ERRMSG_SIZE, "gman_servers_set(servers): one argument, 'host:port[,host:port…]'");
        return 1;
    }
    string_argument(args, 0);
    initid->maybe_null = 1;
    initid->ptr = NULL;
    return 0;
}

char *gman_servers_set(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length, char *is_null, char *error) {
    (void)error;
    if (!args->args[0] || args->lengths[0] == 0) {
        *is_null = 1;
        return NULL;
    }
    char *copy = malloc(args->lengths[0] + 1);
    if (!copy) {
        *error = 1;
        return NULL;
    }
    memcpy(copy, args->args[0], args->lengths[0]);
    copy[args->lengths[0]] = 0;
    pthread_mutex_lock(&servers_lock);
    free(servers);
    servers = copy;
    pthread_mutex_unlock(&servers_lock);
    /* The answer is the list; `result` holds 255 bytes, a longer one goes in ptr. */
    if (args->lengths[0] < 255) {
        memcpy(result, args->args[0], args->lengths[0]);
    } else {
        free(initid->ptr);
        initid->ptr = malloc(args->lengths[0]);
        if (!initid->ptr) {
            *error = 1;
            return NULL;
        }
        memcpy(initid->ptr, args->args[0], args->lengths[0]);
        result = initid->ptr;
    }
    *length = args->lengths[0];
    return result;
}

void gman_servers_set_deinit(UDF_INIT *initid) {
    free(initid->ptr);
}

my_bool gman_do_background_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
    if (args->arg_count != 2) {
        snprintf(message, MYSQL_ERRMSG_SIZE, "gman_do_background(function, payload): two arguments");
        return 1;
    }
    string_argument(args, 0);
    string_argument(args, 1);
    struct call *call = calloc(1, sizeof *call);
    if (!call || !(call->client = gearman_client_create(NULL))) {
        free(call);
        snprintf(message, MYSQL_ERRMSG_SIZE, "gman_do_background: out of memory");
        return 1;
    }
    pthread_mutex_lock(&servers_lock);
    gearman_return_t rc = servers ? gearman_client_add_servers(call->client, servers) : GEARMAN_NO_SERVERS;
    pthread_mutex_unlock(&servers_lock);
    if (rc != GEARMAN_SUCCESS) {
        snprintf(message, MYSQL_ERRMSG_SIZE, "gman_do_background: %s",
                 rc == GEARMAN_NO_SERVERS ? "no servers: call gman_servers_set('host:port') first" : gearman_client_error(call->client));
        gearman_client_free(call->client);
        free(call);
        return 1;
    }
    initid->ptr = (char *)call;
    initid->maybe_null = 1;
    initid->max_length = GEARMAN_JOB_HANDLE_SIZE;
    return 0;
}

char *gman_do_background(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length, char *is_null, char *error) {
    (void)result;
    struct call *call = (struct call *)initid->ptr;
    if (!args->args[0] || !args->args[1]) {
        *is_null = 1;
        return NULL;
    }
    /* libgearman takes the function name as a C string: copy it out of the argument. */
    char function[512];
    if (args->lengths[0] == 0 || args->lengths[0] >= sizeof function || memchr(args->args[0], 0, args->lengths[0])) {
        *error = 1;
        return NULL;
    }
    memcpy(function, args->args[0], args->lengths[0]);
    function[args->lengths[0]] = 0;
    gearman_return_t rc = gearman_client_do_background(call->client, function, NULL, args->args[1], args->lengths[1], call->handle);
    if (rc != GEARMAN_SUCCESS) {
        fprintf(stderr, "gman_do_background(%s): %s\n", function, gearman_client_error(call->client));
        *error = 1;
        return NULL;
    }
    *length = strnlen(call->handle, sizeof call->handle);
    return call->handle;
}

void gman_do_background_deinit(UDF_INIT *initid) {
    struct call *call = (struct call *)initid->ptr;
    if (call) {
        gearman_client_free(call->client);
        free(call);
    }
}
