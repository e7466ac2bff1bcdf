#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include "CFPMShims.h"

/* The process title `ps` shows (/proc/PID/cmdline) is the memory argv points to. As nginx and
   php-fpm do, the title is written over the argv strings and, to have room, over the
   environment strings that follow them, after the environment has been copied elsewhere
   (environ then points at the copy). glibc calls constructors with argc, argv and envp, which
   is how the original argv area is found. */

static char *title_start = NULL;
static size_t title_room = 0;
static char **title_argv = NULL;
static int title_argc = 0;
static char **title_envp = NULL;
static int title_moved = 0;

__attribute__((constructor)) static void cfpm_proctitle_capture(int argc, char **argv, char **envp) {
    title_argc = argc;
    title_argv = argv;
    title_envp = envp;
}

/* Moves the environment strings off the argv area once, and measures the contiguous room. */
static int title_prepare(void) {
    if (title_moved) return title_start != NULL ? 0 : -1;
    title_moved = 1;
    if (title_argv == NULL || title_argc < 1 || title_argv[0] == NULL) return -1;
    char *end = title_argv[0] + strlen(title_argv[0]) + 1;
    for (int i = 1; i < title_argc; i++) {
        if (title_argv[i] != end) break;
        end = title_argv[i] + strlen(title_argv[i]) + 1;
    }
    /* The environment strings that follow argv contiguously can be reused once copied. */
    if (title_envp != NULL && environ == title_envp) {
        size_t count = 0;
        while (title_envp[count] != NULL) count++;
        char **copy = malloc((count + 1) * sizeof(char *));
        if (copy != NULL) {
            int ok = 1;
            for (size_t i = 0; i < count; i++) {
                copy[i] = strdup(title_envp[i]);
                if (copy[i] == NULL) { ok = 0; count = i; break; }
            }
            if (ok) {
                copy[count] = NULL;
                for (size_t i = 0; i < count; i++) {
                    if (title_envp[i] == end) end = title_envp[i] + strlen(title_envp[i]) + 1;
                }
                environ = copy;
            } else {
                for (size_t i = 0; i < count; i++) free(copy[i]);
                free(copy);
            }
        }
    }
    title_start = title_argv[0];
    title_room = (size_t)(end - title_start);
    return 0;
}

int cfpm_proctitle_set(const char *title) {
    if (title_prepare() != 0 || title_room < 2) return -1;
    size_t n = strlen(title);
    if (n > title_room - 1) n = title_room - 1;
    memcpy(title_start, title, n);
    memset(title_start + n, 0, title_room - n);
    /* argv[1...] now point into the title or zeros; the argument count ps reads is what the
       kernel recorded, and the NULs after the title end it. */
    return 0;
}

size_t cfpm_proctitle_room(void) {
    (void)title_prepare();
    return title_room;
}
