#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CFPMShims.h"

/* The async executor's doorbell (WorkerExecutor): a futex word the worker's thread sleeps on
   when it has no job to run, rung by whatever thread enqueues one (a continuation resumed on an
   event-loop thread). 0: quiet, 1: rung, 2: the owner sleeps. Ringing a bell nobody sleeps on
   is one atomic exchange, no syscall. */

void cfpm_doorbell_ring(uint32_t *word) {
    if (__atomic_exchange_n(word, 1, __ATOMIC_ACQ_REL) == 2) {
        syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

void cfpm_doorbell_wait(uint32_t *word) {
    for (;;) {
        if (__atomic_exchange_n(word, 0, __ATOMIC_ACQ_REL) == 1) return;
        uint32_t quiet = 0;
        if (!__atomic_compare_exchange_n(word, &quiet, 2, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
        /* EINTR (a signal handler ran) and EAGAIN (rung meanwhile) both come back to the check. */
        syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
    }
}
